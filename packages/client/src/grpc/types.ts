// TypeScript shapes of proto/apiserver.proto messages as grpc-js decodes them
// with apiServerConversionOptions (snake_case names, int64 as strings, bytes
// as Buffer, enums as names). Keep in step with the .proto file: see its
// comments for what each field means.

export interface ResourceRefMessage {
  group: string;
  version: string;
  resource: string;
  namespace: string;
  name: string;
}

export interface ObjectResponse {
  object: Buffer;
}

export interface GetRequest {
  ref: ResourceRefMessage;
  resource_version: string;
}

export interface ListRequest {
  ref: ResourceRefMessage;
  label_selector: string;
  field_selector: string;
  /** int64: a number when sending, a decimal string when received. */
  limit: number | string;
  continue_token: string;
  resource_version: string;
  resource_version_match: string;
}

export interface ListResponse {
  items: Buffer[];
  resource_version: string;
  continue_token: string;
  remaining_item_count?: number | string;
  kind: string;
  api_version: string;
}

export interface WatchRequest {
  ref: ResourceRefMessage;
  label_selector: string;
  field_selector: string;
  resource_version: string;
  allow_watch_bookmarks: boolean;
  timeout_seconds: number | string;
}

export type WatchEventType = 'TYPE_UNSPECIFIED' | 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEventMessage {
  type: WatchEventType;
  object: Buffer;
}

export interface WatchEventBatchMessage {
  events: WatchEventMessage[];
}

export interface WriteOptionsMessage {
  dry_run: boolean;
  field_manager: string;
}

export interface CreateRequest {
  ref: ResourceRefMessage;
  object: Buffer;
  options: WriteOptionsMessage;
}

export interface UpdateRequest extends CreateRequest {
  /** "" for the object itself, "status" or "finalize" for those subresources. */
  subresource: string;
}

export type PatchTypeName = 'PATCH_TYPE_UNSPECIFIED' | 'JSON_PATCH' | 'MERGE_PATCH' | 'STRATEGIC_MERGE_PATCH';

export interface PatchRequest {
  ref: ResourceRefMessage;
  patch_type: PatchTypeName;
  patch: Buffer;
  subresource: string;
  options: WriteOptionsMessage;
}

export interface DeleteRequest {
  ref: ResourceRefMessage;
  options: Buffer;
}

export interface BindRequest {
  ref: ResourceRefMessage;
  binding: Buffer;
  options: WriteOptionsMessage;
}

export interface BindManyRequest {
  items: BindRequest[];
}

/** `result` is the virtual oneof member proto-loader sets (oneofs: true): which of object and error is present. */
export interface BindResultMessage {
  result?: 'object' | 'error';
  object?: Buffer;
  error?: Buffer;
}

export interface BindManyResponse {
  results: BindResultMessage[];
}

export interface EvictRequest {
  ref: ResourceRefMessage;
  eviction: Buffer;
}

export interface GetScaleRequest {
  ref: ResourceRefMessage;
}

export interface UpdateScaleRequest {
  ref: ResourceRefMessage;
  scale: Buffer;
  options: WriteOptionsMessage;
}

/** The RPC names of the ApiServer service. */
export type ApiServerMethod = 'Get' | 'List' | 'Watch' | 'Create' | 'Update' | 'UpdateStatus' | 'Patch' | 'Delete' | 'Bind' | 'BindMany' | 'Evict' | 'GetScale' | 'UpdateScale';
