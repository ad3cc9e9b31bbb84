// Field selectors (`?fieldSelector=metadata.name=x,status.phase!=Failed`) and
// the fields each kind lets you select on, as upstream's registries expose them.
import { FieldSelectorParseError, UnsupportedFieldLabelError } from './errors';

export interface FieldRequirement {
  readonly field: string;
  /** "=" and "==" mean the same and print as "=". */
  readonly operator: '=' | '!=';
  readonly value: string;
}

export type FieldSet = Readonly<Record<string, string>>;

export class FieldSelector {
  constructor(readonly requirements: readonly FieldRequirement[]) {}

  static everything(): FieldSelector {
    return new FieldSelector([]);
  }

  empty(): boolean {
    return this.requirements.length === 0;
  }

  /** An absent field compares as the empty string, as upstream's fields.Set does. */
  matches(fields: FieldSet): boolean {
    return this.requirements.every((requirement) => {
      const actual = fields[requirement.field] ?? '';
      return requirement.operator === '=' ? actual === requirement.value : actual !== requirement.value;
    });
  }

  /** The value required for `field` by an "=" term, if any (lets a server use an index). */
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === '=')?.value;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
  }
}

export function escapeFieldValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/=/g, '\\=');
}

function unescapeFieldValue(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i += 1) {
    const char = value[i] ?? '';
    if (char === '\\') {
      const next = value[i + 1];
      if (next === undefined || !'\\,='.includes(next)) {
        throw new FieldSelectorParseError(`invalid field selector: invalid escape sequence: \\${next ?? ''}`);
      }
      out += next;
      i += 1;
    } else if (char === '=' || char === ',') {
      throw new FieldSelectorParseError(`invalid field selector: unescaped character in value: ${char}`);
    } else {
      out += char;
    }
  }
  return out;
}

/** Splits on commas that are not escaped with a backslash. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let current = '';
  for (let i = 0; i < selector.length; i += 1) {
    const char = selector[i] ?? '';
    if (char === '\\' && i + 1 < selector.length) {
      current += char + (selector[i + 1] ?? '');
      i += 1;
    } else if (char === ',') {
      terms.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  terms.push(current);
  return terms;
}

const TERM_OPERATORS = ['!=', '==', '='] as const;

/** Parses a field selector; throws FieldSelectorParseError with upstream's message. */
export function parseFieldSelector(selector: string): FieldSelector {
  const requirements: FieldRequirement[] = [];
  const terms = splitTerms(selector).sort();
  for (const term of terms) {
    if (term === '') continue;
    let parsed: FieldRequirement | undefined;
    search: for (let i = 0; i < term.length; i += 1) {
      for (const operator of TERM_OPERATORS) {
        if (term.startsWith(operator, i)) {
          parsed = {
            field: term.slice(0, i),
            operator: operator === '!=' ? '!=' : '=',
            value: unescapeFieldValue(term.slice(i + operator.length)),
          };
          break search;
        }
      }
    }
    if (!parsed) throw new FieldSelectorParseError(`invalid selector: '${selector}'; can't understand '${term}'`);
    requirements.push(parsed);
  }
  return new FieldSelector(requirements);
}

// ---- per-kind selectable fields ----

type Getter = (object: any) => string; // eslint-disable-line @typescript-eslint/no-explicit-any

const str = (value: unknown): string => (value === undefined || value === null ? '' : String(value));

const METADATA_GETTERS: Record<string, Getter> = {
  'metadata.name': (o) => str(o?.metadata?.name),
  'metadata.namespace': (o) => str(o?.metadata?.namespace),
};

const KIND_GETTERS: Record<string, Record<string, Getter>> = {
  Pod: {
    'spec.nodeName': (o) => str(o?.spec?.nodeName),
    'spec.restartPolicy': (o) => str(o?.spec?.restartPolicy),
    'spec.schedulerName': (o) => str(o?.spec?.schedulerName),
    'spec.serviceAccountName': (o) => str(o?.spec?.serviceAccountName),
    'spec.hostNetwork': (o) => String(o?.spec?.hostNetwork === true),
    'status.phase': (o) => str(o?.status?.phase),
    'status.podIP': (o) => str(o?.status?.podIP),
    'status.nominatedNodeName': (o) => str(o?.status?.nominatedNodeName),
  },
  Event: {
    'involvedObject.kind': (o) => str(o?.involvedObject?.kind),
    'involvedObject.namespace': (o) => str(o?.involvedObject?.namespace),
    'involvedObject.name': (o) => str(o?.involvedObject?.name),
    'involvedObject.uid': (o) => str(o?.involvedObject?.uid),
    'involvedObject.apiVersion': (o) => str(o?.involvedObject?.apiVersion),
    'involvedObject.resourceVersion': (o) => str(o?.involvedObject?.resourceVersion),
    'involvedObject.fieldPath': (o) => str(o?.involvedObject?.fieldPath),
    reason: (o) => str(o?.reason),
    reportingComponent: (o) => str(o?.reportingComponent),
    source: (o) => str(o?.source?.component),
    type: (o) => str(o?.type),
  },
  Secret: { type: (o) => str(o?.type) },
  Node: { 'spec.unschedulable': (o) => String(o?.spec?.unschedulable === true) },
  Namespace: { 'status.phase': (o) => str(o?.status?.phase) },
  ReplicaSet: { 'status.replicas': (o) => String(o?.status?.replicas ?? 0) },
  Job: { 'status.successful': (o) => String(o?.status?.succeeded ?? 0) },
  Service: { 'spec.clusterIP': (o) => str(o?.spec?.clusterIP), 'spec.type': (o) => str(o?.spec?.type) },
};

/** Kinds stored without a namespace: their objects expose only metadata.name. */
const CLUSTER_SCOPED_KINDS = new Set([
  'Node',
  'Namespace',
  'PersistentVolume',
  'ClusterRole',
  'ClusterRoleBinding',
  'IngressClass',
  'NodeMetrics',
]);

function gettersFor(kind: string): Record<string, Getter> {
  const base: Record<string, Getter> = CLUSTER_SCOPED_KINDS.has(kind)
    ? { 'metadata.name': METADATA_GETTERS['metadata.name'] as Getter }
    : { ...METADATA_GETTERS };
  return { ...base, ...(KIND_GETTERS[kind] ?? {}) };
}

/** The field labels a kind supports in field selectors. */
export function supportedFieldLabels(kind: string): string[] {
  return Object.keys(gettersFor(kind));
}

/** The selectable fields of an object of `kind`, all as strings. */
export function objectFields(kind: string, object: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [label, get] of Object.entries(gettersFor(kind))) out[label] = get(object);
  return out;
}

/** Throws UnsupportedFieldLabelError (`field label not supported: x`) for the first unknown field. */
export function checkFieldSelector(kind: string, selector: FieldSelector): void {
  const getters = gettersFor(kind);
  for (const requirement of selector.requirements) {
    if (!(requirement.field in getters)) throw new UnsupportedFieldLabelError(requirement.field);
  }
}

export function fieldSelectorMatches(kind: string, selector: FieldSelector, object: unknown): boolean {
  return selector.empty() || selector.matches(objectFields(kind, object));
}
