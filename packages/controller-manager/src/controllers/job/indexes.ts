// Completion indexes of Indexed Jobs: every index 0..completions-1 must see
// one succeeded pod. A pod carries its index in an annotation (and a label);
// status.completedIndexes lists the succeeded ones as ranges ("0-2,4").
import { deepCopy, type Pod, type PodTemplateSpec } from '@kube-lite/api';

export const JOB_COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_LABEL = 'batch.kubernetes.io/job-completion-index';
/** The variable every container of an Indexed Job's pod gets, read from the annotation through the downward API. */
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** Upstream's limit on generated names (63 minus the 5 random characters the API server appends). */
const MAX_GENERATED_NAME_LENGTH = 58;

/** The pod's completion index; undefined when absent or not a non-negative integer. */
export function completionIndexOf(pod: Pod): number | undefined {
  const value = pod.metadata?.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION];
  if (value === undefined || !/^(0|[1-9]\d{0,8})$/.test(value)) return undefined;
  return Number(value);
}

/** A pod of the Job's index range (0 <= index < completions). */
export function hasValidIndex(pod: Pod, completions: number): boolean {
  const index = completionIndexOf(pod);
  return index !== undefined && index < completions;
}

/** Parses "0-2,4" into a set, ignoring malformed parts and indexes outside 0..completions-1, as upstream does. */
export function parseIndexes(text: string | undefined, completions: number): Set<number> {
  const result = new Set<number>();
  for (const part of (text ?? '').split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (match === null) continue;
    const first = Number(match[1]);
    const last = Math.min(match[2] === undefined ? first : Number(match[2]), completions - 1);
    for (let index = first; index <= last; index += 1) result.add(index);
  }
  return result;
}

/** Formats indexes as sorted ranges: consecutive runs as "first-last", lone indexes alone. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let start = 0; start < sorted.length; ) {
    let end = start;
    while (end + 1 < sorted.length && (sorted[end + 1] as number) === (sorted[end] as number) + 1) end += 1;
    parts.push(start === end ? String(sorted[start]) : `${sorted[start]}-${sorted[end]}`);
    start = end + 1;
  }
  return parts.join(',');
}

/** The lowest `count` indexes neither succeeded nor held by an active pod (upstream firstPendingIndexes). */
export function firstPendingIndexes(activePods: readonly Pod[], succeeded: ReadonlySet<number>, count: number, completions: number): number[] {
  const taken = new Set(succeeded);
  for (const pod of activePods) {
    const index = completionIndexOf(pod);
    if (index !== undefined) taken.add(index);
  }
  const result: number[] = [];
  for (let index = 0; index < completions && result.length < count; index += 1) {
    if (!taken.has(index)) result.push(index);
  }
  return result;
}

/** Gives every container that lacks it JOB_COMPLETION_INDEX from the index annotation (upstream addCompletionIndexEnvVariables). */
export function withCompletionIndexEnv(template: PodTemplateSpec): PodTemplateSpec {
  const result = deepCopy(template);
  const spec = result.spec;
  if (spec === undefined) return result;
  for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
    const env = (container.env ??= []);
    if (env.some((variable) => variable.name === JOB_COMPLETION_INDEX_ENV)) continue;
    env.push({ name: JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX_ANNOTATION}']` } } });
  }
  return result;
}

/** generateName of an indexed pod: "<job>-<index>-", the Job name cut so the whole stays within upstream's limit. */
export function indexedGenerateName(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  return `${jobName.slice(0, Math.max(0, MAX_GENERATED_NAME_LENGTH - suffix.length))}${suffix}`;
}
