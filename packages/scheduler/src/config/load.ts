// Reads a KubeSchedulerConfiguration file (YAML or JSON), checks it strictly
// as upstream does (unknown fields are errors), and merges the profile's
// plugin sets into the defaults with upstream's rules.
import { FieldPath, aggregateMessage, type FieldError } from '@kube-lite/api';
import { parse as parseYaml } from 'yaml';
import { tryParseDurationMs } from './duration';
import { DEFAULT_LEADER_ELECTION, DEFAULT_POD_INITIAL_BACKOFF_SECONDS, DEFAULT_POD_MAX_BACKOFF_SECONDS, defaultPlugins } from './defaults';
import {
  CONFIG_API_VERSION,
  CONFIG_KIND,
  DEFAULT_SCHEDULER_NAME,
  EXTENSION_POINTS,
  type ExtensionPoint,
  type KubeSchedulerConfiguration,
  type KubeSchedulerProfile,
  type PluginSet,
  type ResolvedPlugin,
  type ResolvedProfile,
  type SchedulerConfig,
} from './types';

/** The configuration file is malformed or asks for something unsupported; lists every problem. */
export class SchedulerConfigError extends Error {
  constructor(
    readonly errors: readonly FieldError[],
    readonly source = 'scheduler configuration',
    options?: { cause?: unknown },
  ) {
    super(`invalid ${source}: ${aggregateMessage(errors)}`, options);
    this.name = 'SchedulerConfigError';
  }
}

type Json = Record<string, unknown>;

const TOP_LEVEL_FIELDS = [
  'apiVersion',
  'kind',
  'percentageOfNodesToScore',
  'podInitialBackoffSeconds',
  'podMaxBackoffSeconds',
  'clientConnection',
  'leaderElection',
  'profiles',
  'parallelism',
  'enableProfiling',
  'enableContentionProfiling',
  'delayCacheUntilActive',
  'extenders',
];
const PROFILE_FIELDS = ['schedulerName', 'percentageOfNodesToScore', 'plugins', 'pluginConfig'];
const PLUGIN_SET_FIELDS = ['enabled', 'disabled'];
const PLUGIN_FIELDS = ['name', 'weight'];
const CLIENT_CONNECTION_FIELDS = ['kubeconfig', 'qps', 'burst', 'contentType', 'acceptContentTypes'];
const LEADER_ELECTION_FIELDS = Object.keys(DEFAULT_LEADER_ELECTION);

class Checker {
  readonly errors: FieldError[] = [];

  invalid(path: FieldPath, value: unknown, detail: string): void {
    this.errors.push({ field: path.toString(), reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });
  }

  unsupported(path: FieldPath, value: unknown, supported: readonly string[]): void {
    const list = supported.map((s) => JSON.stringify(s)).join(', ');
    this.errors.push({ field: path.toString(), reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${list}` });
  }

  /** Upstream decodes strictly: a misspelt field is an error, not silently ignored. */
  object(path: FieldPath, value: unknown, allowed: readonly string[]): Json | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.invalid(path, value, 'must be an object');
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.errors.push({ field: path.child(key).toString(), reason: 'FieldValueNotFound', message: `unknown field "${key}"` });
    }
    return value as Json;
  }

  array(path: FieldPath, value: unknown): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.invalid(path, value, 'must be a list');
      return [];
    }
    return value;
  }

  integer(path: FieldPath, value: unknown, min: number, max: number): number | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.invalid(path, value, `must be an integer between ${min} and ${max}`);
      return undefined;
    }
    return value;
  }

  string(path: FieldPath, value: unknown): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.invalid(path, value, 'must be a string');
      return undefined;
    }
    return value;
  }

  boolean(path: FieldPath, value: unknown): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') {
      this.invalid(path, value, 'must be a boolean');
      return undefined;
    }
    return value;
  }
}

function readPluginSet(check: Checker, path: FieldPath, value: unknown): PluginSet | undefined {
  const set = check.object(path, value, PLUGIN_SET_FIELDS);
  if (!set) return undefined;
  const readList = (field: 'enabled' | 'disabled') =>
    check.array(path.child(field), set[field]).flatMap((item, i) => {
      const itemPath = path.child(field).index(i);
      const ref = check.object(itemPath, item, PLUGIN_FIELDS);
      const name = ref ? check.string(itemPath.child('name'), ref.name) : undefined;
      if (ref && !name) check.errors.push({ field: itemPath.child('name').toString(), reason: 'FieldValueRequired', message: 'Required value' });
      const weight = ref ? check.integer(itemPath.child('weight'), ref.weight, 0, 100) : undefined;
      return name ? [{ name, weight }] : [];
    });
  return { enabled: readList('enabled'), disabled: readList('disabled') };
}

function readProfile(check: Checker, path: FieldPath, value: unknown): KubeSchedulerProfile {
  const profile = check.object(path, value, PROFILE_FIELDS) ?? {};
  const plugins: Record<string, PluginSet> = {};
  const pluginsPath = path.child('plugins');
  const pluginsObject = check.object(pluginsPath, profile.plugins, [...EXTENSION_POINTS, 'multiPoint', 'permit', 'preBind', 'postBind', 'preEnqueue']);
  for (const [point, set] of Object.entries(pluginsObject ?? {})) {
    const read = readPluginSet(check, pluginsPath.child(point), set);
    if (!read) continue;
    if (!(EXTENSION_POINTS as readonly string[]).includes(point) && point !== 'multiPoint') {
      if ((read.enabled ?? []).length > 0) check.invalid(pluginsPath.child(point, 'enabled'), read.enabled?.map((p) => p.name), 'kube-lite has no plugin for this extension point');
      continue;
    }
    plugins[point] = read;
  }
  const pluginConfig = check.array(path.child('pluginConfig'), profile.pluginConfig).flatMap((item, i) => {
    const itemPath = path.child('pluginConfig').index(i);
    const entry = check.object(itemPath, item, ['name', 'args']);
    const name = entry ? check.string(itemPath.child('name'), entry.name) : undefined;
    return entry && name ? [{ name, args: entry.args }] : [];
  });
  const seen = new Set<string>();
  pluginConfig.forEach((entry, i) => {
    if (seen.has(entry.name)) check.errors.push({ field: path.child('pluginConfig').index(i).child('name').toString(), reason: 'FieldValueDuplicate', message: `Duplicate value: ${JSON.stringify(entry.name)}` });
    seen.add(entry.name);
  });
  return {
    schedulerName: check.string(path.child('schedulerName'), profile.schedulerName),
    percentageOfNodesToScore: check.integer(path.child('percentageOfNodesToScore'), profile.percentageOfNodesToScore, 0, 100),
    plugins,
    pluginConfig,
  };
}

/** Checks the shape of a decoded configuration object; throws SchedulerConfigError. */
export function validateConfiguration(value: unknown, source?: string): KubeSchedulerConfiguration {
  const check = new Checker();
  const root = FieldPath.root();
  const config = check.object(root, value ?? {}, TOP_LEVEL_FIELDS) ?? {};
  const apiVersion = check.string(FieldPath.root('apiVersion'), config.apiVersion);
  if (apiVersion !== undefined && apiVersion !== CONFIG_API_VERSION) check.unsupported(FieldPath.root('apiVersion'), apiVersion, [CONFIG_API_VERSION]);
  const kind = check.string(FieldPath.root('kind'), config.kind);
  if (kind !== undefined && kind !== CONFIG_KIND) check.unsupported(FieldPath.root('kind'), kind, [CONFIG_KIND]);
  const initial = check.integer(FieldPath.root('podInitialBackoffSeconds'), config.podInitialBackoffSeconds, 1, 3600);
  const max = check.integer(FieldPath.root('podMaxBackoffSeconds'), config.podMaxBackoffSeconds, 1, 3600);
  if ((initial ?? DEFAULT_POD_INITIAL_BACKOFF_SECONDS) > (max ?? DEFAULT_POD_MAX_BACKOFF_SECONDS)) {
    check.invalid(FieldPath.root('podMaxBackoffSeconds'), max ?? DEFAULT_POD_MAX_BACKOFF_SECONDS, 'must be greater than or equal to podInitialBackoffSeconds');
  }
  const clientConnection = check.object(FieldPath.root('clientConnection'), config.clientConnection, CLIENT_CONNECTION_FIELDS);
  const leaderElection = check.object(FieldPath.root('leaderElection'), config.leaderElection, LEADER_ELECTION_FIELDS);
  const leaderElect = leaderElection ? check.boolean(FieldPath.root('leaderElection', 'leaderElect'), leaderElection.leaderElect) : undefined;
  for (const field of ['leaseDuration', 'renewDeadline', 'retryPeriod'] as const) {
    const value = leaderElection ? check.string(FieldPath.root('leaderElection', field), leaderElection[field]) : undefined;
    if (value !== undefined && tryParseDurationMs(value) === undefined) check.invalid(FieldPath.root('leaderElection', field), value, 'must be a duration such as 15s or 1m30s');
  }
  const extenders = check.array(FieldPath.root('extenders'), config.extenders);
  if (extenders.length > 0) check.invalid(FieldPath.root('extenders'), `${extenders.length} extender(s)`, 'scheduler extenders are not supported by kube-lite');
  const profiles = check.array(FieldPath.root('profiles'), config.profiles).map((profile, i) => readProfile(check, FieldPath.root('profiles').index(i), profile));
  if (profiles.length > 1) check.invalid(FieldPath.root('profiles'), `${profiles.length} profiles`, 'kube-lite runs exactly one profile');
  const result: KubeSchedulerConfiguration = {
    apiVersion,
    kind,
    percentageOfNodesToScore: check.integer(FieldPath.root('percentageOfNodesToScore'), config.percentageOfNodesToScore, 0, 100),
    podInitialBackoffSeconds: initial,
    podMaxBackoffSeconds: max,
    clientConnection: clientConnection ? { kubeconfig: check.string(FieldPath.root('clientConnection', 'kubeconfig'), clientConnection.kubeconfig) } : undefined,
    leaderElection: leaderElection ? { ...(leaderElection as Record<string, string>), leaderElect } : undefined,
    profiles,
  };
  if (check.errors.length > 0) throw new SchedulerConfigError(check.errors, source);
  return result;
}

/** Parses YAML or JSON text (JSON is YAML); throws SchedulerConfigError. */
export function parseConfigurationText(text: string, source?: string): KubeSchedulerConfiguration {
  let decoded: unknown;
  try {
    decoded = parseYaml(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new SchedulerConfigError([{ field: '', reason: 'FieldValueInvalid', message: `cannot parse: ${message}` }], source, { cause: error });
  }
  return validateConfiguration(decoded, source);
}

/**
 * Upstream mergePluginSet: defaults stay in order unless disabled ("*" drops
 * them all); an enabled plugin that is also a default replaces it in place
 * (that is how a weight is changed); the other enabled plugins follow.
 */
export function mergePluginSet(defaults: readonly ResolvedPlugin[], custom: PluginSet | undefined): { enabled: ResolvedPlugin[]; disabled: Set<string> } {
  const disabled = new Set((custom?.disabled ?? []).map((p) => p.name));
  const customEnabled = (custom?.enabled ?? []).map((p) => ({ name: p.name, weight: p.weight ? p.weight : 1 }));
  const replaced = new Set<number>();
  const enabled: ResolvedPlugin[] = [];
  if (!disabled.has('*')) {
    for (const plugin of defaults) {
      if (disabled.has(plugin.name)) continue;
      const index = customEnabled.findIndex((p) => p.name === plugin.name);
      if (index >= 0) {
        replaced.add(index);
        enabled.push(customEnabled[index] as ResolvedPlugin);
      } else {
        enabled.push(plugin);
      }
    }
  }
  customEnabled.forEach((plugin, index) => {
    if (!replaced.has(index)) enabled.push(plugin);
  });
  return { enabled, disabled };
}

/** Applies defaults and merges the (single) profile into the default plugin sets. */
export function resolveConfiguration(config: KubeSchedulerConfiguration = {}): SchedulerConfig {
  const profile = config.profiles?.[0] ?? {};
  const defaults = defaultPlugins();
  const plugins = {} as Record<ExtensionPoint, ResolvedPlugin[]>;
  const disabled = {} as Record<ExtensionPoint, ReadonlySet<string>>;
  for (const point of EXTENSION_POINTS) {
    const merged = mergePluginSet(defaults[point], profile.plugins?.[point]);
    plugins[point] = merged.enabled;
    disabled[point] = merged.disabled;
  }
  const multiPoint = mergePluginSet([], profile.plugins?.multiPoint).enabled;
  const resolved: ResolvedProfile = {
    schedulerName: profile.schedulerName || DEFAULT_SCHEDULER_NAME,
    percentageOfNodesToScore: profile.percentageOfNodesToScore,
    plugins,
    multiPoint,
    disabled,
    pluginConfig: new Map((profile.pluginConfig ?? []).map((entry) => [entry.name, entry.args])),
  };
  return {
    percentageOfNodesToScore: config.percentageOfNodesToScore ?? 0,
    podInitialBackoffSeconds: config.podInitialBackoffSeconds ?? DEFAULT_POD_INITIAL_BACKOFF_SECONDS,
    podMaxBackoffSeconds: config.podMaxBackoffSeconds ?? DEFAULT_POD_MAX_BACKOFF_SECONDS,
    kubeconfig: config.clientConnection?.kubeconfig || undefined,
    leaderElection: { ...DEFAULT_LEADER_ELECTION, ...stripUndefined(config.leaderElection ?? {}) },
    profile: resolved,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The configuration used when no --config is given. */
export function defaultConfiguration(): SchedulerConfig {
  return resolveConfiguration({});
}
