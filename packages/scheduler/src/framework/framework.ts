// Runs the enabled plugins of one profile at each extension point, in
// configured order, the way upstream's frameworkImpl does: the first
// rejecting Filter decides a node, Score plugins are normalized then
// weighted, Bind plugins are tried until one does not Skip.
import type { ExtensionPoint, ResolvedProfile } from '../config';
import { EXTENSION_POINTS } from '../config';
import type { NodeInfo, PodInfo } from '../snapshot';
import type { ClusterEventWithHint } from './events';
import { Status, type MaybeStatus } from './status';
import {
  MAX_NODE_SCORE,
  MIN_NODE_SCORE,
  type BindPlugin,
  type CycleState,
  type Diagnosis,
  type EnqueueExtensions,
  type FilterPlugin,
  type FrameworkHandle,
  type NodeScore,
  type Plugin,
  type PostFilterPlugin,
  type PostFilterResult,
  type PreFilterPlugin,
  type PreScorePlugin,
  type QueueSortPlugin,
  type QueuedPodInfo,
  type Registry,
  type ReservePlugin,
  type ScorePlugin,
} from './types';

/** The profile names a plugin the registry does not have, or one that lacks the extension point. */
export class PluginConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PluginConfigError';
  }
}

/** The method that marks a plugin as implementing an extension point. */
const POINT_METHOD: Record<ExtensionPoint, string> = {
  queueSort: 'less',
  preFilter: 'preFilter',
  filter: 'filter',
  postFilter: 'postFilter',
  preScore: 'preScore',
  score: 'score',
  reserve: 'reserve',
  bind: 'bind',
};

function implementsPoint(plugin: Plugin, point: ExtensionPoint): boolean {
  return typeof (plugin as unknown as Record<string, unknown>)[POINT_METHOD[point]] === 'function';
}

interface WeightedScorePlugin {
  plugin: ScorePlugin;
  weight: number;
}

/** The weighted sum of every score plugin for one node, and each plugin's share (for logs and tests). */
export interface NodePluginScores {
  name: string;
  totalScore: number;
  scores: { plugin: string; score: number }[];
}

export class Framework {
  readonly profileName: string;
  readonly percentageOfNodesToScore: number | undefined;
  private readonly instances = new Map<string, Plugin>();
  private readonly queueSortPlugin: QueueSortPlugin;
  private readonly preFilterPlugins: PreFilterPlugin[];
  private readonly filterPlugins: FilterPlugin[];
  private readonly postFilterPlugins: PostFilterPlugin[];
  private readonly preScorePlugins: PreScorePlugin[];
  private readonly scorePlugins: WeightedScorePlugin[];
  private readonly reservePlugins: ReservePlugin[];
  private readonly bindPlugins: BindPlugin[];

  constructor(profile: ResolvedProfile, registry: Registry, handle: FrameworkHandle) {
    this.profileName = profile.schedulerName;
    this.percentageOfNodesToScore = profile.percentageOfNodesToScore;
    const instantiate = (name: string): Plugin => {
      let plugin = this.instances.get(name);
      if (plugin) return plugin;
      const factory = registry.get(name);
      if (!factory) throw new PluginConfigError(`profile ${profile.schedulerName}: plugin "${name}" does not exist (known: ${[...registry.keys()].sort().join(', ')})`);
      try {
        plugin = factory(profile.pluginConfig.get(name), handle);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new PluginConfigError(`profile ${profile.schedulerName}: initializing plugin "${name}": ${message}`, { cause: error });
      }
      this.instances.set(name, plugin);
      return plugin;
    };

    const byPoint = {} as Record<ExtensionPoint, { plugin: Plugin; weight: number }[]>;
    for (const point of EXTENSION_POINTS) {
      const seen = new Set<string>();
      byPoint[point] = profile.plugins[point].map(({ name, weight }) => {
        if (seen.has(name)) throw new PluginConfigError(`profile ${profile.schedulerName}: plugin "${name}" already registered as "${point}"`);
        seen.add(name);
        const plugin = instantiate(name);
        if (!implementsPoint(plugin, point)) throw new PluginConfigError(`profile ${profile.schedulerName}: plugin "${name}" does not extend ${point} plugin`);
        return { plugin, weight };
      });
    }
    // multiPoint: every extension point the plugin implements, unless named there already or disabled there.
    for (const { name, weight } of profile.multiPoint) {
      const plugin = instantiate(name);
      let implementsAny = false;
      for (const point of EXTENSION_POINTS) {
        if (!implementsPoint(plugin, point)) continue;
        implementsAny = true;
        const disabled = profile.disabled[point];
        if (disabled.has(name) || byPoint[point].some((entry) => entry.plugin.name === name)) continue;
        byPoint[point].push({ plugin, weight });
      }
      if (!implementsAny) throw new PluginConfigError(`profile ${profile.schedulerName}: multiPoint plugin "${name}" implements no extension point`);
    }

    if (byPoint.queueSort.length !== 1) throw new PluginConfigError(`profile ${profile.schedulerName}: exactly one queueSort plugin is required, found ${byPoint.queueSort.length}`);
    if (byPoint.bind.length === 0) throw new PluginConfigError(`profile ${profile.schedulerName}: at least one bind plugin is required`);
    const plugins = <T>(point: ExtensionPoint) => byPoint[point].map((entry) => entry.plugin as unknown as T);
    this.queueSortPlugin = plugins<QueueSortPlugin>('queueSort')[0] as QueueSortPlugin;
    this.preFilterPlugins = plugins('preFilter');
    this.filterPlugins = plugins('filter');
    this.postFilterPlugins = plugins('postFilter');
    this.preScorePlugins = plugins('preScore');
    this.scorePlugins = byPoint.score.map((entry) => ({ plugin: entry.plugin as ScorePlugin, weight: entry.weight > 0 ? entry.weight : 1 }));
    this.reservePlugins = plugins('reserve');
    this.bindPlugins = plugins('bind');
  }

  /** Plugin names per extension point, for logs and tests. */
  pluginNames(): Record<ExtensionPoint, string[]> {
    const names = (list: readonly Plugin[]) => list.map((p) => p.name);
    return {
      queueSort: [this.queueSortPlugin.name],
      preFilter: names(this.preFilterPlugins),
      filter: names(this.filterPlugins),
      postFilter: names(this.postFilterPlugins),
      preScore: names(this.preScorePlugins),
      score: this.scorePlugins.map((p) => p.plugin.name),
      reserve: names(this.reservePlugins),
      bind: names(this.bindPlugins),
    };
  }

  scoreWeight(pluginName: string): number | undefined {
    return this.scorePlugins.find((p) => p.plugin.name === pluginName)?.weight;
  }

  /** The queue's ordering. */
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    return this.queueSortPlugin.less(a, b);
  }

  /** The cluster events each plugin that can reject pods wants to hear about. */
  eventsByPlugin(): Map<string, ClusterEventWithHint[]> {
    const events = new Map<string, ClusterEventWithHint[]>();
    for (const plugin of this.instances.values()) {
      const extension = plugin as Partial<EnqueueExtensions>;
      if (typeof extension.eventsToRegister === 'function') events.set(plugin.name, extension.eventsToRegister());
    }
    return events;
  }

  /** Returns Success, or the first rejection (Skip marks the plugin's Filter as skipped). */
  runPreFilterPlugins(state: CycleState, pod: PodInfo): Status {
    for (const plugin of this.preFilterPlugins) {
      const status = guard(plugin.name, () => plugin.preFilter(state, pod));
      if (status === undefined || status.code === 'Success') continue;
      if (status.code === 'Skip') {
        state.skipFilterPlugins.add(plugin.name);
        continue;
      }
      return status.withPlugin(plugin.name);
    }
    return Status.success();
  }

  /** The Filter plugins this pod needs, PreFilter skips removed; compute once per cycle. */
  activeFilterPlugins(state: CycleState): readonly FilterPlugin[] {
    if (state.skipFilterPlugins.size === 0) return this.filterPlugins;
    return this.filterPlugins.filter((plugin) => !state.skipFilterPlugins.has(plugin.name));
  }

  /** Runs the filters on one node; stops at the first that does not succeed, as upstream. */
  runFilterPlugins(state: CycleState, pod: PodInfo, node: NodeInfo, filters: readonly FilterPlugin[] = this.activeFilterPlugins(state)): MaybeStatus {
    for (const plugin of filters) {
      let status: MaybeStatus;
      try {
        status = plugin.filter(state, pod, node);
      } catch (error) {
        status = Status.error(error);
      }
      if (status !== undefined && status.code !== 'Success') return status.withPlugin(plugin.name);
    }
    return undefined;
  }

  hasPostFilterPlugins(): boolean {
    return this.postFilterPlugins.length > 0;
  }

  /** Runs PostFilter plugins until one succeeds; their messages join the FitError. */
  runPostFilterPlugins(state: CycleState, pod: PodInfo, diagnosis: Diagnosis): PostFilterResult {
    const messages: string[] = [];
    for (const plugin of this.postFilterPlugins) {
      let result: PostFilterResult;
      try {
        result = plugin.postFilter(state, pod, diagnosis);
      } catch (error) {
        return { status: Status.error(error).withPlugin(plugin.name) };
      }
      result.status.withPlugin(plugin.name);
      if (result.status.isSuccess() || result.status.code === 'Error') return result;
      if (result.status.reasons.length > 0) messages.push(result.status.message());
    }
    return { status: new Status('Unschedulable', messages) };
  }

  runPreScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): Status {
    for (const plugin of this.preScorePlugins) {
      const status = guard(plugin.name, () => plugin.preScore(state, pod, nodes));
      if (status === undefined || status.code === 'Success') continue;
      if (status.code === 'Skip') {
        state.skipScorePlugins.add(plugin.name);
        continue;
      }
      return status.withPlugin(plugin.name);
    }
    return Status.success();
  }

  /**
   * Scores every node with every score plugin, normalizes each plugin's
   * scores, checks they are within [0, 100], weights them and sums them.
   * Returns an Error status when a plugin misbehaves.
   */
  runScorePlugins(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): NodePluginScores[] | Status {
    const results: NodePluginScores[] = nodes.map((node) => ({ name: node.name, totalScore: 0, scores: [] }));
    for (const { plugin, weight } of this.scorePlugins) {
      if (state.skipScorePlugins.has(plugin.name)) continue;
      const scores: NodeScore[] = new Array(nodes.length);
      try {
        for (let i = 0; i < nodes.length; i++) {
          const node = nodes[i] as NodeInfo;
          scores[i] = { name: node.name, score: plugin.score(state, pod, node) };
        }
      } catch (error) {
        return Status.error(error).withPlugin(plugin.name);
      }
      if (plugin.normalizeScore) {
        const status = guard(plugin.name, () => plugin.normalizeScore?.(state, pod, scores));
        if (status !== undefined && !status.isSuccess()) return status.withPlugin(plugin.name);
      }
      for (let i = 0; i < scores.length; i++) {
        const score = (scores[i] as NodeScore).score;
        if (!(score >= MIN_NODE_SCORE && score <= MAX_NODE_SCORE)) {
          return new Status('Error', [`plugin "${plugin.name}" returns an invalid score ${score}, it should in the range of [${MIN_NODE_SCORE}, ${MAX_NODE_SCORE}] after normalizing`], plugin.name);
        }
        const result = results[i] as NodePluginScores;
        result.scores.push({ plugin: plugin.name, score: score * weight });
        result.totalScore += score * weight;
      }
    }
    return results;
  }

  runReservePluginsReserve(state: CycleState, pod: PodInfo, nodeName: string): Status {
    for (const plugin of this.reservePlugins) {
      const status = guard(plugin.name, () => plugin.reserve(state, pod, nodeName));
      if (status !== undefined && !status.isSuccess()) return status.withPlugin(plugin.name);
    }
    return Status.success();
  }

  /** Unreserve in reverse order, as upstream. */
  runReservePluginsUnreserve(state: CycleState, pod: PodInfo, nodeName: string): void {
    for (let i = this.reservePlugins.length - 1; i >= 0; i--) (this.reservePlugins[i] as ReservePlugin).unreserve(state, pod, nodeName);
  }

  async runBindPlugins(state: CycleState, pod: PodInfo, nodeName: string): Promise<Status> {
    for (const plugin of this.bindPlugins) {
      let status: MaybeStatus;
      try {
        status = await plugin.bind(state, pod, nodeName);
      } catch (error) {
        status = Status.error(error);
      }
      if (status !== undefined && status.code === 'Skip') continue;
      return (status ?? Status.success()).withPlugin(plugin.name);
    }
    return new Status('Skip', [`all bind plugins skipped pod ${pod.namespace}/${pod.name}`]);
  }
}

function guard(pluginName: string, call: () => MaybeStatus): MaybeStatus {
  try {
    return call();
  } catch (error) {
    return Status.error(error).withPlugin(pluginName);
  }
}
