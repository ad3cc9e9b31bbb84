// Admission: the checks and changes every write passes between decoding and
// storage, as upstream's default plugin set.

export { AdmissionChain } from './chain';
export { IMMORTAL_NAMESPACES, NamespaceLifecycle, type NamespaceLookup } from './namespace-lifecycle';
export {
  DEFAULT_SERVICE_ACCOUNT_NAME,
  DefaultTolerationSeconds,
  ServiceAccountAdmission,
  type DefaultTolerationSecondsOptions,
} from './pod-defaults';
export type { AdmissionAttributes, AdmissionOperation, AdmissionPlugin } from './types';
