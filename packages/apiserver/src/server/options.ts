// Query parameters and DeleteOptions, validated the way upstream does: a bad
// value is a 400 naming the parameter and what is allowed, never a crash.

import type { DeleteOptions, ListOptions, WriteOptions } from './handler';
import { parseBooleanParameter } from './request-info';
import { badRequest } from './status-error';

function integerParameter(query: URLSearchParams, name: string, minimum: number): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw badRequest(`invalid value for query parameter ${name}: "${value}" is not an integer`);
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < minimum) {
    throw badRequest(`invalid value for query parameter ${name}: ${value} (must be an integer >= ${minimum})`);
  }
  return parsed;
}

function enumParameter<T extends string>(query: URLSearchParams, name: string, allowed: readonly T[]): T | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw badRequest(`invalid value for query parameter ${name}: "${value}" (allowed: ${allowed.join(', ')})`);
  }
  return value as T;
}

/** `dryRun` may repeat; its only value is `All`. */
function dryRunParameter(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun').filter((value) => value !== '');
  for (const value of values) {
    if (value !== 'All') throw badRequest(`invalid value for query parameter dryRun: "${value}" (allowed: All)`);
  }
  return values.length > 0;
}

export function parseListOptions(query: URLSearchParams): ListOptions {
  const options: ListOptions = {
    labelSelector: query.get('labelSelector') ?? '',
    fieldSelector: query.get('fieldSelector') ?? '',
    continue: query.get('continue') ?? '',
    resourceVersion: query.get('resourceVersion') ?? '',
    allowWatchBookmarks: parseBooleanParameter('allowWatchBookmarks', query.get('allowWatchBookmarks')),
  };
  const limit = integerParameter(query, 'limit', 0);
  // limit=0 means "no limit", as upstream.
  if (limit !== undefined && limit > 0) options.limit = limit;
  const match = enumParameter(query, 'resourceVersionMatch', ['Exact', 'NotOlderThan'] as const);
  if (match !== undefined) {
    if (options.resourceVersion === '') throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
    options.resourceVersionMatch = match;
  }
  const timeoutSeconds = integerParameter(query, 'timeoutSeconds', 0);
  if (timeoutSeconds !== undefined) options.timeoutSeconds = timeoutSeconds;
  if (query.has('sendInitialEvents')) options.sendInitialEvents = parseBooleanParameter('sendInitialEvents', query.get('sendInitialEvents'));
  return options;
}

/** Upstream limits managedFields manager names to 128 bytes. */
const maxFieldManagerBytes = 128;

export function parseWriteOptions(query: URLSearchParams): WriteOptions {
  const fieldManager = query.get('fieldManager') ?? '';
  if (Buffer.byteLength(fieldManager) > maxFieldManagerBytes) {
    throw badRequest(`invalid value for query parameter fieldManager: may not be longer than ${maxFieldManagerBytes} bytes`);
  }
  return {
    fieldManager,
    fieldValidation: enumParameter(query, 'fieldValidation', ['Strict', 'Warn', 'Ignore'] as const) ?? 'Warn',
    dryRun: dryRunParameter(query),
    force: parseBooleanParameter('force', query.get('force')),
  };
}

const propagationPolicies = ['Orphan', 'Background', 'Foreground'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Merges DeleteOptions from the query with a decoded body (JSON object, or undefined when there was none). */
export function parseDeleteOptions(query: URLSearchParams, body: unknown): DeleteOptions {
  const options: DeleteOptions = { dryRun: dryRunParameter(query) };
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null && grace !== '') {
    if (!/^-?\d+$/.test(grace)) throw badRequest(`invalid value for query parameter gracePeriodSeconds: "${grace}" is not an integer`);
    options.gracePeriodSeconds = Number(grace);
  }
  const policy = enumParameter(query, 'propagationPolicy', propagationPolicies);
  if (policy !== undefined) options.propagationPolicy = policy;
  if (parseBooleanParameter('orphanDependents', query.get('orphanDependents')) && options.propagationPolicy === undefined) {
    options.propagationPolicy = 'Orphan';
  }
  if (body === undefined) return options;
  if (!isRecord(body)) throw badRequest('the DeleteOptions body must be a JSON object');
  if (body.gracePeriodSeconds !== undefined && body.gracePeriodSeconds !== null) {
    if (typeof body.gracePeriodSeconds !== 'number' || !Number.isInteger(body.gracePeriodSeconds)) {
      throw badRequest('DeleteOptions.gracePeriodSeconds must be an integer');
    }
    options.gracePeriodSeconds = body.gracePeriodSeconds;
  }
  if (body.propagationPolicy !== undefined && body.propagationPolicy !== null) {
    if (!(propagationPolicies as readonly unknown[]).includes(body.propagationPolicy)) {
      throw badRequest(`DeleteOptions.propagationPolicy: Unsupported value: "${String(body.propagationPolicy)}" (allowed: ${propagationPolicies.join(', ')})`);
    }
    options.propagationPolicy = body.propagationPolicy as DeleteOptions['propagationPolicy'];
  } else if (body.orphanDependents === true && options.propagationPolicy === undefined) {
    options.propagationPolicy = 'Orphan';
  }
  if (isRecord(body.preconditions)) {
    const preconditions: { uid?: string; resourceVersion?: string } = {};
    if (typeof body.preconditions.uid === 'string') preconditions.uid = body.preconditions.uid;
    if (typeof body.preconditions.resourceVersion === 'string') preconditions.resourceVersion = body.preconditions.resourceVersion;
    options.preconditions = preconditions;
  }
  if (Array.isArray(body.dryRun)) {
    for (const value of body.dryRun) {
      if (value !== 'All') throw badRequest(`DeleteOptions.dryRun: Unsupported value: "${String(value)}" (allowed: All)`);
    }
    if (body.dryRun.length > 0) options.dryRun = true;
  }
  return options;
}
