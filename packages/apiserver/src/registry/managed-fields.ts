// A simple field-manager model: every write records, per manager and
// operation, the set of fields it touched (metadata.managedFields in
// FieldsV1 form); server-side apply merges the applied configuration over
// the live object and removes fields the manager applied before but no
// longer does. Lists are owned as a whole (no per-element keys), which is
// coarser than upstream's structured-merge-diff but keeps ownership exact
// for maps.

import type { ManagedFieldsEntry } from '@kube-lite/api';
import { formatTime } from '@kube-lite/api';
import { isRecord, jsonEquivalent, type ApiObject } from './object';

/** A FieldsV1 tree: `{"f:spec": {"f:replicas": {}}}`; an empty object marks an owned leaf. */
export type FieldSet = { [key: string]: FieldSet };

/** Metadata fields the system owns; they never appear in a manager's set. */
const SYSTEM_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);
const TOP_LEVEL_IGNORED = new Set(['apiVersion', 'kind']);

function fieldsOfValue(value: unknown): FieldSet {
  if (!isRecord(value)) return {};
  const set: FieldSet = {};
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined) continue;
    set[`f:${key}`] = fieldsOfValue(member);
  }
  return set;
}

/** Every field set in `object` (what a create or an apply touches). */
export function fieldSetOf(object: Record<string, unknown>): FieldSet {
  const set: FieldSet = {};
  for (const [key, value] of Object.entries(object)) {
    if (TOP_LEVEL_IGNORED.has(key) || value === undefined) continue;
    if (key === 'metadata' && isRecord(value)) {
      const metadata: FieldSet = {};
      for (const [field, member] of Object.entries(value)) {
        if (SYSTEM_METADATA.has(field) || member === undefined) continue;
        metadata[`f:${field}`] = fieldsOfValue(member);
      }
      if (Object.keys(metadata).length > 0) set['f:metadata'] = metadata;
      continue;
    }
    set[`f:${key}`] = fieldsOfValue(value);
  }
  return set;
}

/** The fields whose values differ between two versions of an object (what an update touches). */
export function changedFieldSet(previous: Record<string, unknown>, next: Record<string, unknown>): FieldSet {
  const walk = (before: unknown, after: unknown, skip: ReadonlySet<string>): FieldSet => {
    const set: FieldSet = {};
    const beforeRecord = isRecord(before) ? before : {};
    const afterRecord = isRecord(after) ? after : {};
    for (const key of new Set([...Object.keys(beforeRecord), ...Object.keys(afterRecord)])) {
      if (skip.has(key)) continue;
      const left = beforeRecord[key];
      const right = afterRecord[key];
      if (right === undefined || jsonEquivalent(left, right)) continue;
      set[`f:${key}`] = isRecord(left) && isRecord(right) ? walk(left, right, new Set()) : fieldsOfValue(right);
    }
    return set;
  };
  const set = walk(previous, next, TOP_LEVEL_IGNORED);
  const metadata = walk(previous.metadata, next.metadata, SYSTEM_METADATA);
  delete set['f:metadata'];
  if (Object.keys(metadata).length > 0) set['f:metadata'] = metadata;
  return set;
}

export function unionFieldSets(left: FieldSet, right: FieldSet): FieldSet {
  const result: FieldSet = { ...left };
  for (const [key, value] of Object.entries(right)) {
    const existing = result[key];
    result[key] = existing === undefined ? value : unionFieldSets(existing, value);
  }
  return result;
}

/**
 * Deletes from `object` the fields in `previous` that are absent from `current`: what a manager applied
 * before and dropped from its configuration. Only whole fields are removed (a list goes as a whole).
 */
export function removeDroppedFields(object: Record<string, unknown>, previous: FieldSet, current: FieldSet, topLevel = true, others: FieldSet = {}): void {
  for (const [key, previousChildren] of Object.entries(previous)) {
    if (!key.startsWith('f:')) continue;
    const field = key.slice(2);
    const otherChildren = others[key];
    let currentChildren = current[key];
    if (currentChildren === undefined) {
      // The object's own metadata is never dropped as a whole, only the fields in it; a field
      // another manager also owns stays (only this manager's claim on it goes).
      if (!(topLevel && field === 'metadata') && otherChildren === undefined) {
        delete object[field];
        continue;
      }
      currentChildren = {};
    }
    // Owned as a whole by another manager: nothing inside it goes either.
    if (otherChildren !== undefined && Object.keys(otherChildren).length === 0) continue;
    const member = object[field];
    if (isRecord(member) && Object.keys(previousChildren).length > 0) {
      removeDroppedFields(member, previousChildren, currentChildren, false, otherChildren ?? {});
    }
  }
}

export interface ManagerIdentity {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  /** `status`, `scale`, or `` for the main resource. */
  subresource: string;
}

function sameManager(entry: ManagedFieldsEntry, identity: ManagerIdentity): boolean {
  return entry.manager === identity.manager && entry.operation === identity.operation && (entry.subresource ?? '') === identity.subresource;
}

/** The fields a manager recorded with this operation, or an empty set. */
export function managerFieldSet(object: ApiObject, identity: ManagerIdentity): FieldSet {
  const entry = (object.metadata.managedFields ?? []).find((candidate) => sameManager(candidate, identity));
  return (entry?.fieldsV1 as FieldSet | undefined) ?? {};
}

/** `set` without the fields of `removed`; containers left empty go too (they would read as owned leaves). */
export function subtractFieldSets(set: FieldSet, removed: FieldSet): FieldSet {
  const result: FieldSet = {};
  for (const [key, children] of Object.entries(set)) {
    const removal = removed[key];
    if (removal === undefined) {
      result[key] = children;
    } else if (Object.keys(removal).length === 0) {
      continue;
    } else if (Object.keys(children).length === 0) {
      // Owned as a whole (a list, an empty map): a removal inside it leaves the whole in place.
      result[key] = children;
    } else {
      const rest = subtractFieldSets(children, removal);
      if (Object.keys(rest).length > 0) result[key] = rest;
    }
  }
  return result;
}

/** Whether `set` has the node at `path` (`['f:spec', 'f:replicas']`), or owns one of its ancestors as a whole. */
function ownsPath(set: FieldSet, path: readonly string[]): boolean {
  let node: FieldSet | undefined = set;
  for (const key of path) {
    if (Object.keys(node).length === 0 && node !== set) return true;
    node = node[key];
    if (node === undefined) return false;
  }
  return true;
}

/** Leaf paths of a set, each as its `f:` keys. */
function leafPaths(set: FieldSet, prefix: readonly string[] = []): string[][] {
  const paths: string[][] = [];
  for (const [key, children] of Object.entries(set)) {
    const path = [...prefix, key];
    if (Object.keys(children).length === 0) paths.push(path);
    else paths.push(...leafPaths(children, path));
  }
  return paths;
}

function valueAt(object: unknown, path: readonly string[]): unknown {
  let value = object;
  for (const key of path) {
    if (!isRecord(value)) return undefined;
    value = value[key.slice(2)];
  }
  return value;
}

/** `.spec.replicas`, as upstream prints a field path in conflicts. */
function pathString(path: readonly string[]): string {
  return path.map((key) => `.${key.slice(2)}`).join('');
}

/** How upstream names a manager in a conflict: `"kubectl"`, or for updates `"kubectl-create" using apps/v1`. */
export function describeManager(entry: ManagedFieldsEntry): string {
  let text = JSON.stringify(entry.manager ?? '');
  if (entry.subresource !== undefined && entry.subresource !== '') text += ` with subresource ${JSON.stringify(entry.subresource)}`;
  if (entry.operation === 'Update') text += ` using ${entry.apiVersion ?? ''}`;
  return text;
}

export interface FieldConflict {
  /** The manager as upstream prints it: `"kubectl-client-side-apply" using apps/v1`. */
  manager: string;
  /** `.spec.replicas`. */
  field: string;
  /** The manager's entry, to take the field away from it (force). */
  entry: ManagedFieldsEntry;
  /** The field as a FieldSet with one leaf. */
  fields: FieldSet;
}

/**
 * Fields an apply would change (its `applied` set, `merged` the result) that other managers own in `live`:
 * a field set to the value it already has is shared, not a conflict.
 */
export function findApplyConflicts(live: ApiObject, merged: ApiObject, applied: FieldSet, identity: ManagerIdentity): FieldConflict[] {
  const conflicts: FieldConflict[] = [];
  const changed = leafPaths(applied).filter((path) => !jsonEquivalent(valueAt(live, path), valueAt(merged, path)));
  if (changed.length === 0) return conflicts;
  for (const entry of live.metadata.managedFields ?? []) {
    if (sameManager(entry, identity)) continue;
    const owned = (entry.fieldsV1 as FieldSet | undefined) ?? {};
    for (const path of changed) {
      if (!ownsPath(owned, path)) continue;
      const fields: FieldSet = {};
      let node = fields;
      for (const key of path) node = node[key] = {};
      conflicts.push({ manager: describeManager(entry), field: pathString(path), entry, fields });
    }
  }
  return conflicts;
}

/** Upstream's message: `Apply failed with 1 conflict: conflict with "x" using apps/v1: .spec.replicas`, grouped by manager for more. */
export function applyConflictMessage(conflicts: readonly FieldConflict[]): string {
  if (conflicts.length === 1) {
    const only = conflicts[0] as FieldConflict;
    return `Apply failed with 1 conflict: conflict with ${only.manager}: ${only.field}`;
  }
  const byManager = new Map<string, string[]>();
  for (const conflict of conflicts) byManager.set(conflict.manager, [...(byManager.get(conflict.manager) ?? []), conflict.field]);
  const lines: string[] = [];
  for (const manager of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${manager}:`);
    for (const field of byManager.get(manager) ?? []) lines.push(`- ${field}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** Takes the conflicting fields away from their managers (apply with force=true); managers left with nothing go. */
export function releaseConflicts(object: ApiObject, conflicts: readonly FieldConflict[]): void {
  if (conflicts.length === 0) return;
  const entries: ManagedFieldsEntry[] = [];
  for (const entry of object.metadata.managedFields ?? []) {
    let fields = (entry.fieldsV1 as FieldSet | undefined) ?? {};
    for (const conflict of conflicts) if (sameEntry(conflict.entry, entry)) fields = subtractFieldSets(fields, conflict.fields);
    if (Object.keys(fields).length > 0) entries.push({ ...entry, fieldsV1: fields });
  }
  object.metadata.managedFields = entries;
}

function sameEntry(left: ManagedFieldsEntry, right: ManagedFieldsEntry): boolean {
  return left.manager === right.manager && left.operation === right.operation && (left.subresource ?? '') === (right.subresource ?? '');
}

/** Union of the sets of every manager but `identity` (fields someone else still wants). */
export function otherManagersFieldSet(object: ApiObject, identity: ManagerIdentity): FieldSet {
  let union: FieldSet = {};
  for (const entry of object.metadata.managedFields ?? []) {
    if (!sameManager(entry, identity)) union = unionFieldSets(union, (entry.fieldsV1 as FieldSet | undefined) ?? {});
  }
  return union;
}

/**
 * Records that `identity` set `fields` at nowMs: its entry's set becomes `fields` for Apply (an apply
 * states the whole intent) and grows by `fields` for Update. An Update also takes the fields it changed
 * away from every other manager, as upstream does; managers left with nothing are dropped.
 */
export function recordManagedFields(object: ApiObject, identity: ManagerIdentity, fields: FieldSet, nowMs: number): void {
  if (identity.manager === '') return;
  const entries = [...(object.metadata.managedFields ?? [])]
    .map((entry) => {
      if (identity.operation !== 'Update' || sameManager(entry, identity) || Object.keys(fields).length === 0) return entry;
      return { ...entry, fieldsV1: subtractFieldSets((entry.fieldsV1 as FieldSet | undefined) ?? {}, fields) };
    })
    .filter((entry) => sameManager(entry, identity) || Object.keys((entry.fieldsV1 as FieldSet | undefined) ?? {}).length > 0);
  const index = entries.findIndex((entry) => sameManager(entry, identity));
  const previous = index >= 0 ? ((entries[index]?.fieldsV1 as FieldSet | undefined) ?? {}) : {};
  const fieldsV1 = identity.operation === 'Apply' ? fields : unionFieldSets(previous, fields);
  if (Object.keys(fieldsV1).length === 0 && index < 0) return;
  const entry: ManagedFieldsEntry = {
    manager: identity.manager,
    operation: identity.operation,
    apiVersion: identity.apiVersion,
    time: formatTime(nowMs),
    fieldsType: 'FieldsV1',
    fieldsV1,
  };
  if (identity.subresource !== '') entry.subresource = identity.subresource;
  if (index >= 0) entries[index] = entry;
  else entries.push(entry);
  object.metadata.managedFields = entries;
}
