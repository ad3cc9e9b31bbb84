// Reading pluginConfig args: a plugin's args are plain JSON from the config
// file, so each plugin checks the fields it knows and rejects the rest.

/** A plugin's args are malformed. */
export class PluginArgsError extends Error {
  constructor(pluginName: string, detail: string) {
    super(`${pluginName} args: ${detail}`);
    this.name = 'PluginArgsError';
  }
}

export function argsObject(pluginName: string, args: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (args === undefined || args === null) return {};
  if (typeof args !== 'object' || Array.isArray(args)) throw new PluginArgsError(pluginName, 'must be an object');
  const object = args as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    // Upstream args embed TypeMeta; accept it.
    if (key === 'apiVersion' || key === 'kind') continue;
    if (!allowed.includes(key)) throw new PluginArgsError(pluginName, `unknown field "${key}"`);
  }
  return object;
}

export interface ResourceSpec {
  name: string;
  weight: number;
}

/** A list of {name, weight}: weights 1..100 as upstream validates. */
export function resourceSpecs(pluginName: string, field: string, value: unknown, defaults: readonly ResourceSpec[]): ResourceSpec[] {
  if (value === undefined || value === null) return [...defaults];
  if (!Array.isArray(value) || value.length === 0) throw new PluginArgsError(pluginName, `${field} must be a non-empty list`);
  const seen = new Set<string>();
  return value.map((item, i) => {
    const entry = (item ?? {}) as { name?: unknown; weight?: unknown };
    if (typeof entry.name !== 'string' || entry.name === '') throw new PluginArgsError(pluginName, `${field}[${i}].name is required`);
    if (seen.has(entry.name)) throw new PluginArgsError(pluginName, `${field}[${i}].name: Duplicate value: "${entry.name}"`);
    seen.add(entry.name);
    const weight = entry.weight ?? 1;
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > 100) {
      throw new PluginArgsError(pluginName, `${field}[${i}].weight: Invalid value: ${JSON.stringify(weight)}: resource weight of ${entry.name} should be in the range [1, 100]`);
    }
    return { name: entry.name, weight };
  });
}
