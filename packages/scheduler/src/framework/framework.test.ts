import { defaultConfiguration, parseConfigurationText, resolveConfiguration } from '../config';
import { inTreeRegistry } from '../plugins';
import { ClusterSnapshot, newPodInfo, type NodeInfo, type PodInfo } from '../snapshot';
import { makeNode, makePod, nodeInfoOf } from '../test-fixtures';
import { Framework, PluginConfigError } from './framework';
import { Status } from './status';
import { CycleState, type FilterPlugin, type NodeScore, type PluginFactory, type PreFilterPlugin, type ScorePlugin } from './types';

/** A score plugin giving fixed raw scores by node name, optionally normalizing by doubling. */
function fixedScore(name: string, raw: Record<string, number>, normalize?: (scores: NodeScore[]) => void): ScorePlugin {
  return {
    name,
    score: (_state: CycleState, _pod: PodInfo, node: NodeInfo) => raw[node.name] ?? 0,
    ...(normalize ? { normalizeScore: (_s: CycleState, _p: PodInfo, scores: NodeScore[]) => void normalize(scores) } : {}),
  };
}

function registryWith(extra: Record<string, PluginFactory>): Map<string, PluginFactory> {
  const registry = inTreeRegistry();
  for (const [name, factory] of Object.entries(extra)) registry.set(name, factory);
  return registry;
}

const handle = { snapshot: new ClusterSnapshot(), binder: { bind: async () => undefined } };
const nodes = () => [nodeInfoOf(makeNode('a')), nodeInfoOf(makeNode('b'))];
const pod = () => newPodInfo(makePod('p'));

function frameworkFrom(yaml: string, extra: Record<string, PluginFactory>): Framework {
  return new Framework(resolveConfiguration(parseConfigurationText(yaml)).profile, registryWith(extra), handle);
}

describe('Framework', () => {
  test('default profile instantiates the in-tree plugins in upstream order', () => {
    const framework = new Framework(defaultConfiguration().profile, inTreeRegistry(), handle);
    expect(framework.pluginNames()).toEqual({
      queueSort: ['PrioritySort'],
      preFilter: ['NodeAffinity', 'NodePorts', 'VolumeBinding'],
      filter: ['NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeReady', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'VolumeBinding'],
      postFilter: [],
      preScore: ['TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'SelectorSpread', 'NodeResourcesBalancedAllocation'],
      score: ['TaintToleration', 'NodeAffinity', 'NodeResourcesFit', 'SelectorSpread', 'NodeResourcesBalancedAllocation'],
      reserve: [],
      // VolumeBinding binds first: it waits for the pod's claims to be bound (upstream's PreBind), then DefaultBinder binds the pod.
      bind: ['VolumeBinding', 'DefaultBinder'],
    });
    expect(framework.scoreWeight('TaintToleration')).toBe(3);
    expect(framework.scoreWeight('NodeAffinity')).toBe(2);
  });

  test('scores are normalized, then weighted, then summed', () => {
    const framework = frameworkFrom(
      `
profiles:
- plugins:
    score:
      disabled: [{name: "*"}]
      enabled: [{name: Half, weight: 3}, {name: Plain}]
`,
      {
        Half: () => fixedScore('Half', { a: 40, b: 100 }, (scores) => scores.forEach((s) => (s.score = s.score / 2))),
        Plain: () => fixedScore('Plain', { a: 10, b: 1 }),
      },
    );
    const result = framework.runScorePlugins(new CycleState(), pod(), nodes());
    expect(result).toEqual([
      { name: 'a', totalScore: 20 * 3 + 10, scores: [{ plugin: 'Half', score: 60 }, { plugin: 'Plain', score: 10 }] },
      { name: 'b', totalScore: 50 * 3 + 1, scores: [{ plugin: 'Half', score: 150 }, { plugin: 'Plain', score: 1 }] },
    ]);
  });

  test('a score outside [0, 100] after normalizing is an Error status', () => {
    const framework = frameworkFrom(`profiles: [{plugins: {score: {disabled: [{name: "*"}], enabled: [{name: Big}]}}}]`, { Big: () => fixedScore('Big', { a: 101 }) });
    const result = framework.runScorePlugins(new CycleState(), pod(), nodes());
    expect(result).toBeInstanceOf(Status);
    expect((result as Status).code).toBe('Error');
    expect((result as Status).message()).toBe('plugin "Big" returns an invalid score 101, it should in the range of [0, 100] after normalizing');
  });

  test('a score plugin that throws is an Error status', () => {
    const framework = frameworkFrom(`profiles: [{plugins: {score: {enabled: [{name: Boom}]}}}]`, {
      Boom: () => ({ name: 'Boom', score: () => { throw new Error('kaput'); } }) as ScorePlugin,
    });
    const result = framework.runScorePlugins(new CycleState(), pod(), nodes()) as Status;
    expect([result.code, result.plugin, result.message()]).toEqual(['Error', 'Boom', 'kaput']);
  });

  test('filters stop at the first rejection and name the plugin', () => {
    const calls: string[] = [];
    const filter = (name: string, status?: Status): PluginFactory => () => ({ name, filter: () => (calls.push(name), status) }) as FilterPlugin;
    const framework = frameworkFrom(`profiles: [{plugins: {filter: {disabled: [{name: "*"}], enabled: [{name: First}, {name: Second}, {name: Third}]}}}]`, {
      First: filter('First'),
      Second: filter('Second', Status.unschedulable('no room')),
      Third: filter('Third'),
    });
    const status = framework.runFilterPlugins(new CycleState(), pod(), nodes()[0] as NodeInfo);
    expect([status?.code, status?.plugin, status?.reasons]).toEqual(['Unschedulable', 'Second', ['no room']]);
    expect(calls).toEqual(['First', 'Second']);
  });

  test('PreFilter Skip removes the plugin from the filters of this cycle', () => {
    const both: PluginFactory = () => ({ name: 'Both', preFilter: () => Status.skip(), filter: () => Status.unschedulable('never') }) as PreFilterPlugin & FilterPlugin;
    const framework = frameworkFrom(`profiles: [{plugins: {preFilter: {enabled: [{name: Both}]}, filter: {enabled: [{name: Both}]}}}]`, { Both: both });
    const state = new CycleState();
    expect(framework.runPreFilterPlugins(state, pod()).isSuccess()).toBe(true);
    expect(framework.activeFilterPlugins(state).map((p) => p.name)).not.toContain('Both');
    expect(framework.runFilterPlugins(state, pod(), nodes()[0] as NodeInfo)).toBeUndefined();
  });

  test('multiPoint enables a plugin at every extension point it implements, except where disabled', () => {
    const both: PluginFactory = () => ({ name: 'Both', filter: () => undefined, score: () => 1 }) as FilterPlugin & ScorePlugin;
    const framework = frameworkFrom(`profiles: [{plugins: {multiPoint: {enabled: [{name: Both, weight: 7}]}, filter: {disabled: [{name: Both}]}}}]`, { Both: both });
    expect(framework.pluginNames().filter).not.toContain('Both');
    expect(framework.pluginNames().score).toContain('Both');
    expect(framework.scoreWeight('Both')).toBe(7);
  });

  test.each([
    ['unknown plugin', `profiles: [{plugins: {filter: {enabled: [{name: Nope}]}}}]`, /plugin "Nope" does not exist/],
    ['plugin without the extension point', `profiles: [{plugins: {score: {enabled: [{name: NodeName}]}}}]`, /plugin "NodeName" does not extend score plugin/],
    ['no queue sort', `profiles: [{plugins: {queueSort: {disabled: [{name: "*"}]}}}]`, /exactly one queueSort plugin/],
    ['duplicate plugin', `profiles: [{plugins: {filter: {enabled: [{name: NodePorts}, {name: NodePorts}]}}}]`, /"NodePorts" already registered as "filter"/],
    ['bad plugin args', `profiles: [{pluginConfig: [{name: NodeResourcesFit, args: {scoringStrategy: {type: Nope}}}]}]`, /initializing plugin "NodeResourcesFit": NodeResourcesFit args: scoringStrategy.type: Unsupported value/],
  ])('rejects a profile with %s', (_name, yaml, message) => {
    expect(() => frameworkFrom(yaml, {})).toThrow(PluginConfigError);
    expect(() => frameworkFrom(yaml, {})).toThrow(message);
  });

  test('bind plugins: Skip hands over to the next', async () => {
    const bound: string[] = [];
    const framework = frameworkFrom(`profiles: [{plugins: {bind: {disabled: [{name: "*"}], enabled: [{name: Skipper}, {name: Binder}]}}}]`, {
      Skipper: () => ({ name: 'Skipper', bind: async () => Status.skip() }),
      Binder: () => ({ name: 'Binder', bind: async (_s: CycleState, p: PodInfo, node: string) => void bound.push(`${p.name}@${node}`) }),
    });
    const status = await framework.runBindPlugins(new CycleState(), pod(), 'a');
    expect([status.code, status.plugin]).toEqual(['Success', 'Binder']);
    expect(bound).toEqual(['p@a']);
  });

  test('eventsByPlugin gathers the registrations of enqueue extensions', () => {
    const framework = new Framework(defaultConfiguration().profile, inTreeRegistry(), handle);
    const events = framework.eventsByPlugin();
    expect([...events.keys()].sort()).toEqual(['NodeAffinity', 'NodeName', 'NodePorts', 'NodeReady', 'NodeResourcesFit', 'NodeUnschedulable', 'TaintToleration', 'VolumeBinding']);
  });
});
