// @kube-lite/api: Kubernetes object types, the resource scheme, defaults,
// validation, selectors, quantities and patches. Pure code, no I/O.

export * from './types';
export * from './errors';

// Scheme: resources, discovery, storage keys, conversion.
export {
  allResources,
  apiGroups,
  apiResourceList,
  apiVersionOf,
  convertObject,
  ingressFromV1beta1,
  ingressToV1beta1,
  parseApiVersion,
  resolveResource,
  resourceFor,
  resourceForGVK,
  resourceForKind,
  resourceForObject,
  resourceForShortName,
  scaleOf,
  storageKey,
  storageKeyPrefix,
  storageVersion,
  withScaleReplicas,
  type GroupVersionKind,
  type ResourceInfo,
  type SubresourceInfo,
  type Verb,
} from './scheme';

// Defaults.
export {
  addDefaultTolerations,
  applyDefaults,
  defaultImagePullPolicy,
  generateJobSelector,
  JOB_CONTROLLER_UID_LABEL,
  JOB_NAME_LABEL,
  NOT_READY_TAINT_KEY,
  UNREACHABLE_TAINT_KEY,
} from './defaults';
export * as defaults from './defaults';

// Validation.
export {
  aggregateMessage,
  FieldPath,
  formatFieldError,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  validateLabelSelector,
  validateObject,
  validateObjectUpdate,
  validatePodSpec,
  validatePodTemplateSpec,
  type FieldError,
  type FieldErrorReason,
  type ValidationOptions,
} from './validation';
export * as validation from './validation';

// Field schemas (strict field validation, strategic merge keys, OpenAPI).
export { schemaAt, schemaFor, schemaKinds, unknownFieldMessage, unknownFields, type FieldSchema, type ListSchema, type MapSchema, type ObjectSchema, type ScalarSchema } from './schema';

// Selectors.
export {
  formatLabels,
  formatLabelSelector,
  labelSelectorAsSelector,
  labelSelectorMatches,
  newRequirement,
  parseSelector,
  requirementToString,
  Selector,
  selectorFromSet,
  type Labels,
  type Requirement,
  type SelectorOperator,
} from './labels';
export {
  checkFieldSelector,
  escapeFieldValue,
  fieldSelectorMatches,
  FieldSelector,
  objectFields,
  parseFieldSelector,
  supportedFieldLabels,
  type FieldRequirement,
  type FieldSet,
} from './fields';

// Values and helpers.
export { canonicalQuantity, compareQuantities, parseQuantity, Quantity, type QuantityFormat } from './quantity';
export { isPercent, resolveFenceposts, scaledValueFromIntOrPercent, type IntOrString } from './intstr';
export { formatMicroTime, formatTime, parseTime } from './time';
export { deepCopy, isPlainObject, jsonEqual } from './deepcopy';
export { loopbackServiceAddress } from './service-address';
export { controllerOf, isControlledBy, newControllerRef } from './ownerrefs';
export {
  getContainerStatus,
  getPodCondition,
  isPodAvailable,
  isPodReady,
  isPodTerminal,
  podQOSClass,
  podResourceLimits,
  podResourceRequests,
  type ResourceTotals,
} from './pods';
export { POD_TEMPLATE_HASH_LABEL, podTemplateHash, podTemplatesEqualIgnoringHash, semanticEqual } from './semantic';
export * from './storage';
export { nodeSelectorMapMatches, nodeSelectorTermMatches, nodeSelectorTermsMatch } from './node-selector';
export { isValidTimeZone, parseSchedule, ScheduleError, type CronSchedule } from './cron-schedule';

// Patches.
export { applyJsonPatch, applyMergePatch, applyPatch, applyStrategicMergePatch, createMergePatch, patchTypeOf, type JsonPatchOperation, type PatchType } from './patch';
