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
export function removeDroppedFields(object: Record<string, unknown>, previous: FieldSet, current: FieldSet, topLevel = true): void {
  for (const [key, previousChildren] of Object.entries(previous)) {
    if (!key.startsWith('f:')) continue;
    const field = key.slice(2);
    let currentChildren = current[key];
    if (currentChildren === undefined) {
      // The object's own metadata is never dropped as a whole, only the fields in it.
      if (!(topLevel && field === 'metadata')) {
        delete object[field];
        continue;
      }
      currentChildren = {};
    }
    const member = object[field];
    if (isRecord(member) && Object.keys(previousChildren).length > 0) {
      removeDroppedFields(member, previousChildren, currentChildren, false);
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

/**
 * Records that `identity` set `fields` at nowMs: its entry's set becomes `fields` for Apply (an apply
 * states the whole intent) and grows by `fields` for Update. Managers with nothing to record are left out.
 */
export function recordManagedFields(object: ApiObject, identity: ManagerIdentity, fields: FieldSet, nowMs: number): void {
  if (identity.manager === '') return;
  const entries = [...(object.metadata.managedFields ?? [])];
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
