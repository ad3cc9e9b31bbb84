// ObjectMeta validation (upstream apimachinery ValidateObjectMeta and friends).
import type { ObjectMeta, OwnerReference } from '../types/meta';
import { FieldPath, forbidden, invalid, required, tooLong, type FieldError } from './field';
import { isQualifiedName, isValidLabelValue, nameIsDNSLabel, type NameValidator } from './names';

/** Upstream's cap on the summed size of all annotation keys and values. */
export const TOTAL_ANNOTATION_SIZE_LIMIT_BYTES = 256 * 1024;

export function validateLabels(labels: Record<string, string> | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    for (const message of isQualifiedName(key)) errors.push(invalid(path, key, message));
    for (const message of isValidLabelValue(String(value))) errors.push(invalid(path, value, message));
  }
  return errors;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  let totalBytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    for (const message of isQualifiedName(key.toLowerCase())) errors.push(invalid(path, key, message));
    totalBytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  }
  if (totalBytes > TOTAL_ANNOTATION_SIZE_LIMIT_BYTES) errors.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES));
  return errors;
}

function validateOwnerReferences(references: OwnerReference[] | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const controllers: string[] = [];
  for (const reference of references ?? []) {
    if (!reference.apiVersion) errors.push(invalid(path.child('apiVersion'), reference.apiVersion ?? '', 'version must not be empty'));
    if (!reference.kind) errors.push(invalid(path.child('kind'), reference.kind ?? '', 'kind must not be empty'));
    if (!reference.name) errors.push(invalid(path.child('name'), reference.name ?? '', 'name must not be empty'));
    if (!reference.uid) errors.push(invalid(path.child('uid'), reference.uid ?? '', 'uid must not be empty'));
    if (reference.controller === true) controllers.push(`${reference.kind}/${reference.name}`);
  }
  if (controllers.length > 1) {
    errors.push(
      invalid(
        path,
        `${controllers.length} references`,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`,
      ),
    );
  }
  return errors;
}

function validateFinalizers(finalizers: string[] | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  for (const finalizer of finalizers ?? []) {
    for (const message of isQualifiedName(finalizer)) errors.push(invalid(path, finalizer, message));
  }
  return errors;
}

/**
 * Validates metadata of a new object. `namespaced` says whether the kind
 * lives in a namespace; `nameValidator` is the kind's name rule.
 */
export function validateObjectMeta(
  meta: ObjectMeta | undefined,
  namespaced: boolean,
  nameValidator: NameValidator,
  path: FieldPath = FieldPath.root('metadata'),
): FieldError[] {
  const errors: FieldError[] = [];
  const m = meta ?? {};
  if (m.generateName) {
    for (const message of nameValidator(m.generateName, true)) errors.push(invalid(path.child('generateName'), m.generateName, message));
  }
  if (!m.name) {
    errors.push(required(path.child('name'), 'name or generateName is required'));
  } else {
    for (const message of nameValidator(m.name, false)) errors.push(invalid(path.child('name'), m.name, message));
  }
  if (namespaced) {
    if (!m.namespace) errors.push(required(path.child('namespace'), ''));
    else for (const message of nameIsDNSLabel(m.namespace, false)) errors.push(invalid(path.child('namespace'), m.namespace, message));
  } else if (m.namespace) {
    errors.push(forbidden(path.child('namespace'), 'not allowed on this type'));
  }
  if (m.generation !== undefined && m.generation < 0) errors.push(invalid(path.child('generation'), m.generation, 'must be greater than or equal to 0'));
  if (m.deletionGracePeriodSeconds !== undefined && m.deletionTimestamp === undefined) {
    errors.push(forbidden(path.child('deletionGracePeriodSeconds'), 'may only be set when deletionTimestamp is set'));
  }
  errors.push(...validateLabels(m.labels, path.child('labels')));
  errors.push(...validateAnnotations(m.annotations, path.child('annotations')));
  errors.push(...validateOwnerReferences(m.ownerReferences, path.child('ownerReferences')));
  errors.push(...validateFinalizers(m.finalizers, path.child('finalizers')));
  return errors;
}

/** name, namespace, uid and creationTimestamp cannot change on update. */
export function validateObjectMetaUpdate(next: ObjectMeta | undefined, previous: ObjectMeta | undefined, path: FieldPath = FieldPath.root('metadata')): FieldError[] {
  const errors: FieldError[] = [];
  const n = next ?? {};
  const p = previous ?? {};
  const immutable: (keyof ObjectMeta)[] = ['name', 'namespace', 'uid', 'creationTimestamp'];
  for (const field of immutable) {
    const before = p[field] ?? undefined;
    const after = n[field] ?? undefined;
    if (before !== undefined && after !== undefined && before !== after) errors.push(invalid(path.child(field), after, 'field is immutable'));
  }
  if (p.deletionTimestamp !== undefined && n.deletionTimestamp !== undefined && p.deletionTimestamp !== n.deletionTimestamp) {
    errors.push(invalid(path.child('deletionTimestamp'), n.deletionTimestamp, 'field is immutable; may only be changed via deletion'));
  }
  return errors;
}
