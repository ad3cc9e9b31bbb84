// Validation of storage.k8s.io/v1 StorageClass, as upstream's
// ValidateStorageClass and ValidateStorageClassUpdate.
import { jsonEqual } from '../deepcopy';
import type { StorageClass, TopologySelectorTerm } from '../types/storage';
import { duplicate, FieldPath, forbidden, invalid, notSupported, required, tooLong, tooMany, type FieldError } from './field';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta';
import { isQualifiedName, nameIsDNSSubdomain } from './names';

/** Upstream's cap on the number of provisioner parameters. */
export const MAX_STORAGE_CLASS_PARAMETERS = 512;
/** Upstream's cap on the summed length of parameter keys and values. */
export const MAX_STORAGE_CLASS_PARAMETERS_SIZE_BYTES = 256 * 1024;

const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];

function validateProvisioner(provisioner: string | undefined, path: FieldPath): FieldError[] {
  if (!provisioner) return [required(path, '')];
  return isQualifiedName(provisioner.toLowerCase()).map((message) => invalid(path, provisioner, message));
}

function validateParameters(parameters: Record<string, string> | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const entries = Object.entries(parameters ?? {});
  if (entries.length > MAX_STORAGE_CLASS_PARAMETERS) errors.push(tooMany(path, entries.length, MAX_STORAGE_CLASS_PARAMETERS));
  let totalBytes = 0;
  for (const [key, value] of entries) {
    if (key === '') errors.push(invalid(path, key, 'field can not be empty.'));
    totalBytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  }
  if (totalBytes > MAX_STORAGE_CLASS_PARAMETERS_SIZE_BYTES) errors.push(tooLong(path, MAX_STORAGE_CLASS_PARAMETERS_SIZE_BYTES));
  return errors;
}

function validateAllowedTopologies(terms: TopologySelectorTerm[] | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const seenTerms: string[] = [];
  (terms ?? []).forEach((term, i) => {
    const termPath = path.index(i);
    const expressions = term.matchLabelExpressions ?? [];
    if (expressions.length === 0) errors.push(required(termPath.child('matchLabelExpressions'), 'must have at least one label expression'));
    const keys = new Set<string>();
    expressions.forEach((expression, j) => {
      const expressionPath = termPath.child('matchLabelExpressions').index(j);
      for (const message of isQualifiedName(expression.key ?? '')) errors.push(invalid(expressionPath.child('key'), expression.key ?? '', message));
      if (keys.has(expression.key)) errors.push(duplicate(expressionPath.child('key'), expression.key));
      keys.add(expression.key);
      if (!expression.values || expression.values.length === 0) errors.push(required(expressionPath.child('values'), 'must specify as least one value'));
    });
    const canonical = JSON.stringify([...expressions].map((e) => [e.key, [...(e.values ?? [])].sort()]).sort());
    if (seenTerms.includes(canonical)) errors.push(duplicate(termPath, term));
    seenTerms.push(canonical);
  });
  return errors;
}

/** Validates a defaulted StorageClass (reclaimPolicy and volumeBindingMode filled in). */
export function validateStorageClass(storageClass: StorageClass): FieldError[] {
  const errors = validateObjectMeta(storageClass.metadata, false, nameIsDNSSubdomain);
  errors.push(...validateProvisioner(storageClass.provisioner, FieldPath.root('provisioner')));
  errors.push(...validateParameters(storageClass.parameters, FieldPath.root('parameters')));
  const reclaimPolicy = storageClass.reclaimPolicy;
  if (reclaimPolicy !== undefined && !RECLAIM_POLICIES.includes(reclaimPolicy)) errors.push(notSupported(FieldPath.root('reclaimPolicy'), reclaimPolicy, RECLAIM_POLICIES));
  const mode = storageClass.volumeBindingMode;
  if (mode === undefined) errors.push(required(FieldPath.root('volumeBindingMode'), ''));
  else if (!BINDING_MODES.includes(mode)) errors.push(notSupported(FieldPath.root('volumeBindingMode'), mode, BINDING_MODES));
  errors.push(...validateAllowedTopologies(storageClass.allowedTopologies, FieldPath.root('allowedTopologies')));
  return errors;
}

/** A class's parameters, provisioner, reclaim policy and binding mode are fixed once created. */
export function validateStorageClassUpdate(next: StorageClass, previous: StorageClass): FieldError[] {
  const errors = [...validateObjectMetaUpdate(next.metadata, previous.metadata), ...validateStorageClass(next)];
  if (!jsonEqual(next.parameters ?? {}, previous.parameters ?? {})) errors.push(forbidden(FieldPath.root('parameters'), 'updates to parameters are forbidden.'));
  if (next.provisioner !== previous.provisioner) errors.push(forbidden(FieldPath.root('provisioner'), 'updates to provisioner are forbidden.'));
  if (next.reclaimPolicy !== previous.reclaimPolicy) errors.push(forbidden(FieldPath.root('reclaimPolicy'), 'updates to reclaimPolicy are forbidden.'));
  if (next.volumeBindingMode !== previous.volumeBindingMode) errors.push(invalid(FieldPath.root('volumeBindingMode'), next.volumeBindingMode ?? '', 'field is immutable'));
  return errors;
}
