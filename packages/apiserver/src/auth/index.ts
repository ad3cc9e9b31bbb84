export {
  ClientCertificateAuthenticator,
  TokenAuthenticator,
  UnionAuthenticator,
  type AuthenticationResult,
  type Authenticator,
} from './authenticator';
export {
  CertificateError,
  DEFAULT_SERVING_NAMES,
  KUBELET_CLIENT_COMMON_NAME,
  createCertificateAuthority,
  ensureCertificates,
  ensureKubeletClientCertificate,
  issueCertificate,
  subjectAltNamesOf,
  type ClusterCertificates,
  type EnsureCertificatesOptions,
  type IssueOptions,
  type KeyPairPem,
} from './certs';
export { exactFieldMatch } from './field-selector';
export { renderKubeconfig, writeKubeconfig, type KubeconfigOptions } from './kubeconfig';
export {
  FixedPolicyAuthorizer,
  defaultPolicyBindings,
  forbiddenMessage,
  nodeRules,
  ruleAllows,
  type AuthorizationAttributes,
  type AuthorizationDecision,
  type Authorizer,
  type FixedPolicyOptions,
  type PodNodeLookup,
  type PolicyBinding,
  type PolicyRule,
} from './policy';
export {
  ADMIN_USER,
  TokenFileError,
  ensureAdminTokenFile,
  formatTokenFile,
  generateToken,
  loadTokenFile,
  parseTokenFile,
  writeTokenFile,
  type TokenEntry,
} from './token-file';
export {
  ANONYMOUS_USER,
  AUTHENTICATED_GROUP,
  MASTERS_GROUP,
  NODES_GROUP,
  NODE_USER_PREFIX,
  UNAUTHENTICATED_GROUP,
  nodeNameOf,
  withAuthenticatedGroup,
  type UserInfo,
} from './user';
