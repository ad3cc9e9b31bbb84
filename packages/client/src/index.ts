// @kube-lite/client: everything a component needs to talk to the API server:
// the ApiClient (gRPC, or an in-memory fake for tests), shared informers with
// listers and indexes, the work queue, leader election and event recording.

// Client interface and resources.
export {
  ApiClientBase,
  type ApiClient,
  type ApiVerbs,
  type BindItem,
  type CallOptions,
  type DeleteCallOptions,
  type GetOptions,
  type ListOptions,
  type PatchOptions,
  type PodClient,
  type ResourceClient,
  type ResourceRef,
  type ScalableClient,
  type UpdateOptions,
  type Watch,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from './api-client';
export { RESOURCES, refString, resourceInfoOf, UnknownResourceError } from './resources';

// Errors.
export {
  alreadyExistsError,
  ApiError,
  badRequestError,
  ClientClosedError,
  ClientConfigError,
  conflictError,
  goneError,
  invalidError,
  isAlreadyExists,
  isBadRequest,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  isServiceUnavailable,
  isTimeout,
  isTooManyRequests,
  isUnauthorized,
  notFoundError,
  OPTIMISTIC_LOCK_MESSAGE,
  QueueFullError,
  tooManyRequestsError,
} from './errors';

// Logging.
export { JsonLogger, silentLogger, type JsonLoggerOptions, type LogFields, type Logger, type LogLevel } from './logger';

// gRPC: the client, and what the API server's gRPC front end shares with it.
export { GrpcApiClient, decodeJson, encodeJson, type GrpcApiClientOptions, type GrpcTlsOptions } from './grpc/grpc-api-client';
export {
  ClientConnectionError,
  grpcAddressOf,
  KubeconfigError,
  loadClientConfig,
  parseKubeconfig,
  readKubeconfig,
  type ClientConnectionFlags,
  type KubeconfigCredentials,
  type ReadTextFile,
} from './kubeconfig';
export { API_SERVER_SERVICE_NAME, apiServerConversionOptions, defaultApiServerProtoDir, loadApiServerPackageDefinition } from './grpc/load';
export { apiErrorFromGrpc, grpcCodeForStatus, KUBE_STATUS_METADATA_KEY, statusToServiceError } from './grpc/status-mapping';
export type * as apiserverpb from './grpc/types';

// Fake for unit tests.
export { FakeApiClient, type FakeAction, type FakeApiClientOptions, type FakeVerb, type Reactor, type RecordedWrite } from './fake/fake-api-client';

// Informers, listers, indexes.
export {
  CONTROLLER_UID_INDEX,
  controllerUidIndexFunc,
  Indexer,
  NAMESPACE_INDEX,
  namespaceIndexFunc,
  NODE_NAME_INDEX,
  nodeNameIndexFunc,
  objectKey,
  splitObjectKey,
  UnknownIndexError,
  type IndexFunc,
} from './informers/indexer';
export { Lister, NamespaceLister } from './informers/lister';
export {
  DeletedFinalStateUnknown,
  SharedInformer,
  type HandlerRegistration,
  type ResourceEventHandler,
  type SharedInformerOptions,
} from './informers/shared-informer';
export { SharedInformerFactory, type InformerRequest, type SharedInformerFactoryOptions } from './informers/factory';

// Work queue.
export { WorkQueue, type WorkQueueOptions } from './workqueue/work-queue';
export { BucketRateLimiter, defaultControllerRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter, type RateLimiter } from './workqueue/rate-limiter';
export { runWorkers, type RunWorkersOptions } from './workqueue/run-workers';

// Leader election and events.
export { LeaderElector, type LeaderElectorOptions } from './leaderelection/leader-elector';
export { EventRecorder, referenceOf, type EventRecorderOptions, type EventType } from './events/event-recorder';
