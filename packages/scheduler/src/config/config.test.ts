import { defaultConfiguration, mergePluginSet, parseDurationMs, parseConfigurationText, resolveConfiguration, SchedulerConfigError } from '.';

describe('scheduler configuration', () => {
  test('defaults without a file', () => {
    const config = defaultConfiguration();
    expect(config.percentageOfNodesToScore).toBe(0);
    expect([config.podInitialBackoffSeconds, config.podMaxBackoffSeconds]).toEqual([1, 10]);
    expect(config.profile.schedulerName).toBe('default-scheduler');
    expect(config.leaderElection.leaderElect).toBe(true);
    expect(config.profile.plugins.score.map((p) => `${p.name}:${p.weight}`)).toEqual([
      'TaintToleration:3',
      'NodeAffinity:2',
      'NodeResourcesFit:1',
      'SelectorSpread:2',
      'NodeResourcesBalancedAllocation:1',
    ]);
  });

  test('an upstream-style YAML file', () => {
    const config = resolveConfiguration(
      parseConfigurationText(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: /etc/kubernetes/scheduler.conf
leaderElection:
  leaderElect: false
percentageOfNodesToScore: 30
podMaxBackoffSeconds: 20
profiles:
- schedulerName: default-scheduler
  plugins:
    score:
      disabled:
      - name: SelectorSpread
      enabled:
      - name: NodeResourcesFit
        weight: 5
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
`),
    );
    expect(config.kubeconfig).toBe('/etc/kubernetes/scheduler.conf');
    expect(config.leaderElection.leaderElect).toBe(false);
    expect(config.leaderElection.resourceName).toBe('kube-scheduler');
    expect(config.percentageOfNodesToScore).toBe(30);
    expect(config.podMaxBackoffSeconds).toBe(20);
    // Re-enabling a default keeps its place and takes the new weight.
    expect(config.profile.plugins.score.map((p) => `${p.name}:${p.weight}`)).toEqual(['TaintToleration:3', 'NodeAffinity:2', 'NodeResourcesFit:5', 'NodeResourcesBalancedAllocation:1']);
    expect(config.profile.pluginConfig.get('NodeResourcesFit')).toEqual({ scoringStrategy: { type: 'MostAllocated' } });
  });

  test('JSON is accepted too', () => {
    const config = resolveConfiguration(parseConfigurationText('{"profiles":[{"schedulerName":"fast","percentageOfNodesToScore":10}]}'));
    expect(config.profile.schedulerName).toBe('fast');
    expect(config.profile.percentageOfNodesToScore).toBe(10);
  });

  test.each([
    ['wrong apiVersion', 'apiVersion: kubescheduler.config.k8s.io/v1beta1', 'apiVersion: Unsupported value: "kubescheduler.config.k8s.io/v1beta1": supported values: "kubescheduler.config.k8s.io/v1"'],
    ['unknown top-level field', 'percentageOfNodeToScore: 10', 'percentageOfNodeToScore: unknown field "percentageOfNodeToScore"'],
    ['percentage out of range', 'percentageOfNodesToScore: 101', 'percentageOfNodesToScore: Invalid value: 101: must be an integer between 0 and 100'],
    ['backoff inverted', 'podInitialBackoffSeconds: 20', 'podMaxBackoffSeconds: Invalid value: 10: must be greater than or equal to podInitialBackoffSeconds'],
    ['two profiles', 'profiles: [{schedulerName: a}, {schedulerName: b}]', 'profiles: Invalid value: "2 profiles": kube-lite runs exactly one profile'],
    ['weight too high', 'profiles: [{plugins: {score: {enabled: [{name: X, weight: 101}]}}}]', 'profiles[0].plugins.score.enabled[0].weight: Invalid value: 101: must be an integer between 0 and 100'],
    ['plugin without a name', 'profiles: [{plugins: {filter: {enabled: [{weight: 1}]}}}]', 'profiles[0].plugins.filter.enabled[0].name: Required value'],
    ['duplicate pluginConfig', 'profiles: [{pluginConfig: [{name: A}, {name: A}]}]', 'profiles[0].pluginConfig[1].name: Duplicate value: "A"'],
    ['extenders', 'extenders: [{urlPrefix: "http://x"}]', 'extenders: Invalid value: "1 extender(s)": scheduler extenders are not supported by kube-lite'],
    ['unsupported extension point', 'profiles: [{plugins: {permit: {enabled: [{name: X}]}}}]', 'profiles[0].plugins.permit.enabled: Invalid value: ["X"]: kube-lite has no plugin for this extension point'],
    ['bad duration', 'leaderElection: {leaseDuration: soon}', 'leaderElection.leaseDuration: Invalid value: "soon": must be a duration such as 15s or 1m30s'],
    ['not YAML', 'profiles: [unclosed', 'cannot parse'],
  ])('rejects %s', (_name, text, message) => {
    let caught: unknown;
    try {
      parseConfigurationText(text, 'test.yaml');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SchedulerConfigError);
    expect((caught as Error).message).toContain('invalid test.yaml: ');
    expect((caught as Error).message).toContain(message);
  });

  test('several problems are reported together', () => {
    expect(() => parseConfigurationText('kind: Foo\npercentageOfNodesToScore: -1')).toThrow(/^invalid scheduler configuration: \[kind: Unsupported value.*, percentageOfNodesToScore: Invalid value: -1/);
  });

  test.each([
    ['15s', 15_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
  ])('duration %s', (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
  });

  describe('mergePluginSet (upstream rules)', () => {
    const defaults = [
      { name: 'A', weight: 1 },
      { name: 'B', weight: 2 },
      { name: 'C', weight: 3 },
    ];
    test.each([
      ['nothing custom', undefined, ['A:1', 'B:2', 'C:3']],
      ['disable one', { disabled: [{ name: 'B' }] }, ['A:1', 'C:3']],
      ['disable all, enable one', { disabled: [{ name: '*' }], enabled: [{ name: 'C', weight: 9 }] }, ['C:9']],
      ['enable a new one after the defaults', { enabled: [{ name: 'D' }] }, ['A:1', 'B:2', 'C:3', 'D:1']],
      ['re-enable a default in place with a weight', { enabled: [{ name: 'D', weight: 4 }, { name: 'B', weight: 7 }] }, ['A:1', 'B:7', 'C:3', 'D:4']],
      ['re-enable without a weight means weight 1', { enabled: [{ name: 'C' }] }, ['A:1', 'B:2', 'C:1']],
    ])('%s', (_name, custom, expected) => {
      expect(mergePluginSet(defaults, custom).enabled.map((p) => `${p.name}:${p.weight}`)).toEqual(expected);
    });
  });
});
