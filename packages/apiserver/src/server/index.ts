export { ApiServer, defaultVersionInfo, type ApiServerOptions, type VersionInfo } from './api-server';
export { Discovery, type ApiResourceEntry, type ApiResourceList } from './discovery';
export type {
  Connection,
  DeleteOptions,
  DeleteResult,
  ListOptions,
  OutputOptions,
  PatchRequest,
  PatchType,
  RequestContext,
  ResourceDescription,
  ResourceHandler,
  ServedResource,
  SubresourceDescription,
  WatchEvent,
  WatchEventType,
  WatchSink,
  WatchSubscription,
  WriteOptions,
  WriteResult,
} from './handler';
export type { HealthCheck } from './health';
export { Logger, flushLogs, silentLogger, type LogFields, type LogLevel, type LoggerOptions } from './log';
export { DEFAULT_MAX_REQUEST_BODY_BYTES } from './media';
export { duplicateFieldMessage } from './duplicate-fields';
export { ApiServerMetrics } from './metrics';
export { parseRequestInfo, type RequestInfo, type ResourceRequestInfo, type ResourceVerb } from './request-info';
export {
  OBJECT_MODIFIED_MESSAGE,
  StatusError,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  forbidden,
  gone,
  groupResourceString,
  internalError,
  invalid,
  methodNotAllowed,
  notAcceptable,
  notFound,
  pathNotFound,
  requestEntityTooLarge,
  serviceUnavailable,
  successStatus,
  timeout,
  toStatusError,
  tooManyRequests,
  unauthorized,
  unsupportedMediaType,
  type FieldCause,
  type GroupKind,
  type GroupResource,
  type Status,
  type StatusCause,
  type StatusDetails,
} from './status-error';
