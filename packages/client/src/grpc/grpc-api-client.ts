// ApiClient over the API server's gRPC front end (proto/apiserver.proto).
// grpc-js reconnects the channel by itself; on top of that, reads (get, list,
// getScale) are retried on UNAVAILABLE with backoff inside their deadline,
// because a read is safe to repeat and a restarting API server is the common
// case. Writes are not retried: the caller knows whether repeating is safe.
import * as grpc from '@grpc/grpc-js';
import type { Binding, DeleteOptions, Eviction, KubeList, KubeObject, PatchType, Scale, Status } from '@kube-lite/api';
import {
  ApiClientBase,
  selectorString,
  type BindItem,
  type CallOptions,
  type DeleteCallOptions,
  type GetOptions,
  type ListOptions,
  type PatchOptions,
  type ResourceRef,
  type UpdateOptions,
  type Watch,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from '../api-client';
import { ApiError, ClientClosedError, ClientConfigError, isServiceUnavailable } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { RESOURCES } from '../resources';
import { API_SERVER_SERVICE_NAME, loadApiServerPackageDefinition } from './load';
import { apiErrorFromGrpc } from './status-mapping';
import type * as pb from './types';

export interface GrpcTlsOptions {
  /** PEM of the cluster CA the server certificate must chain to. */
  caPem: string | Buffer;
  /** Client certificate PEM, for servers that authenticate clients by certificate. */
  certPem?: string | Buffer;
  /** Private key PEM of certPem. */
  keyPem?: string | Buffer;
  /** Name to check the server certificate against when it differs from the address host. */
  serverName?: string;
}

export interface GrpcApiClientOptions {
  /** "host:port" of the API server's gRPC listener. */
  address: string;
  /** Bearer token sent as `authorization` metadata; a function is asked on every call (rotating tokens). */
  token?: string | (() => string | undefined);
  /** TLS settings; required unless `insecure` is set. */
  tls?: GrpcTlsOptions;
  /** Plaintext connection, for tests and local development only. */
  insecure?: boolean;
  /** Deadline of a call that gives none; 30 s by default. */
  defaultTimeoutMs?: number;
  /** How many times a read is retried when the server is unavailable; 3 by default. */
  readRetries?: number;
  /** First retry delay of a read, doubled each time; 100 ms by default. */
  retryBackoffMs?: number;
  /** Largest answer accepted (big lists); 64 MiB by default. */
  maxReceiveMessageBytes?: number;
  /** Where retries and stream failures are logged. */
  logger?: Logger;
  /** Extra channel options passed to grpc-js as they are. */
  channelOptions?: grpc.ChannelOptions;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_RETRY_BACKOFF_MS = 2_000;

export class GrpcApiClient extends ApiClientBase {
  private readonly client: grpc.Client;
  private readonly methods: grpc.ServiceDefinition;
  private readonly options: GrpcApiClientOptions;
  private readonly logger: Logger;
  private readonly activeWatches = new Set<() => void>();
  private closed = false;

  constructor(options: GrpcApiClientOptions) {
    super();
    if (options.tls === undefined && options.insecure !== true) {
      throw new ClientConfigError('GrpcApiClient needs tls.caPem, or insecure: true for a plaintext connection');
    }
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    const definition = loadApiServerPackageDefinition()[API_SERVER_SERVICE_NAME];
    this.methods = definition as grpc.ServiceDefinition;
    const credentials =
      options.tls === undefined
        ? grpc.credentials.createInsecure()
        : grpc.credentials.createSsl(toBuffer(options.tls.caPem), toBufferOrNull(options.tls.keyPem), toBufferOrNull(options.tls.certPem));
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 64 * 1024 * 1024,
      // Finds a dead connection under an idle watch within about 40 s.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      // grpc-js waits up to 2 minutes between reconnects by default; a restarted API server should be found sooner.
      'grpc.initial_reconnect_backoff_ms': 500,
      'grpc.max_reconnect_backoff_ms': 10_000,
      // Channelz keeps per-call statistics for a debugging service nobody here serves; it costs on every call.
      'grpc.enable_channelz': 0,
      ...(options.tls?.serverName === undefined ? {} : { 'grpc.ssl_target_name_override': options.tls.serverName, 'grpc.default_authority': options.tls.serverName }),
      ...options.channelOptions,
    };
    this.client = new grpc.Client(options.address, credentials, channelOptions);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.activeWatches]) stop();
    this.client.close();
  }

  async get<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, options: GetOptions = {}): Promise<T> {
    const request: pb.GetRequest = { ref: refMessage(ref, namespace, name), resource_version: options.resourceVersion ?? '' };
    return decodeObject<T>(await this.unary<pb.ObjectResponse>('Get', request, options, true));
  }

  async list<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, options: ListOptions = {}): Promise<KubeList<T>> {
    const request: pb.ListRequest = {
      ref: refMessage(ref, namespace, ''),
      label_selector: selectorString(options.labelSelector),
      field_selector: selectorString(options.fieldSelector),
      limit: options.limit ?? 0,
      continue_token: options.continue ?? '',
      resource_version: options.resourceVersion ?? '',
      resource_version_match: options.resourceVersionMatch ?? '',
    };
    const response = await this.unary<pb.ListResponse>('List', request, options, true);
    const list: KubeList<T> = {
      apiVersion: response.api_version,
      kind: response.kind,
      metadata: { resourceVersion: response.resource_version },
      items: response.items.map((item) => decodeJson<T>(item)),
    };
    if (response.continue_token !== '' && list.metadata) list.metadata.continue = response.continue_token;
    if (response.remaining_item_count !== undefined && response.remaining_item_count !== null && list.metadata) {
      list.metadata.remainingItemCount = Number(response.remaining_item_count);
    }
    return list;
  }

  watch<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, options: WatchOptions = {}): Watch<T> {
    const request: pb.WatchRequest = {
      ref: refMessage(ref, namespace, ''),
      label_selector: selectorString(options.labelSelector),
      field_selector: selectorString(options.fieldSelector),
      resource_version: options.resourceVersion ?? '',
      allow_watch_bookmarks: options.allowWatchBookmarks ?? false,
      timeout_seconds: options.timeoutSeconds ?? 0,
    };
    let call: grpc.ClientReadableStream<pb.WatchEventBatchMessage> | undefined;
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      this.activeWatches.delete(stop);
      call?.cancel();
    };
    const start = (): grpc.ClientReadableStream<pb.WatchEventBatchMessage> => {
      if (this.closed) throw new ClientClosedError();
      const method = this.method('Watch');
      this.activeWatches.add(stop);
      return this.client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize as (bytes: Buffer) => pb.WatchEventBatchMessage, request, this.metadata(), {});
    };
    const logger = this.logger;
    return {
      stop,
      async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
        if (stopped) return;
        if (call !== undefined) throw new Error('a Watch can be iterated only once');
        call = start();
        try {
          // Each message carries the events the server had ready at once, oldest first.
          for await (const batch of call as AsyncIterable<pb.WatchEventBatchMessage>) {
            for (const message of batch.events) {
              if (message.type === 'ERROR') throw ApiError.fromStatus(decodeJson<Status>(message.object));
              if (message.type === 'TYPE_UNSPECIFIED') continue;
              yield { type: message.type, object: decodeJson<T>(message.object) };
              // stop() from the consumer between two events of one batch ends the iteration there.
              if (stopped) return;
            }
          }
        } catch (error) {
          if (stopped) return;
          const apiError = apiErrorFromGrpc(error);
          logger.debug('watch stream failed', { resource: ref.resource, namespace, code: apiError.code, error: apiError.message });
          throw apiError;
        } finally {
          stop();
        }
      },
    };
  }

  async create<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options: WriteOptions = {}): Promise<T> {
    const request: pb.CreateRequest = { ref: refMessage(ref, namespace, ''), object: encodeJson(object), options: writeOptions(options) };
    return decodeObject<T>(await this.unary<pb.ObjectResponse>('Create', request, options, false));
  }

  async update<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options: UpdateOptions = {}): Promise<T> {
    const request: pb.UpdateRequest = {
      ref: refMessage(ref, namespace, object.metadata?.name ?? ''),
      object: encodeJson(object),
      options: writeOptions(options),
      subresource: options.subresource ?? '',
    };
    return decodeObject<T>(await this.unary<pb.ObjectResponse>('Update', request, options, false));
  }

  async updateStatus<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options: WriteOptions = {}): Promise<T> {
    const request: pb.UpdateRequest = { ref: refMessage(ref, namespace, object.metadata?.name ?? ''), object: encodeJson(object), options: writeOptions(options), subresource: 'status' };
    return decodeObject<T>(await this.unary<pb.ObjectResponse>('UpdateStatus', request, options, false));
  }

  async patch<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, options: PatchOptions = {}): Promise<T> {
    const request: pb.PatchRequest = {
      ref: refMessage(ref, namespace, name),
      patch_type: PATCH_TYPE_NAMES[patchType],
      patch: encodeJson(patch),
      subresource: options.subresource ?? '',
      options: writeOptions(options),
    };
    return decodeObject<T>(await this.unary<pb.ObjectResponse>('Patch', request, options, false));
  }

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, options: DeleteCallOptions = {}): Promise<KubeObject | Status> {
    const { timeoutMs, ...deleteOptions } = options;
    const body: DeleteOptions = deleteOptions;
    const request: pb.DeleteRequest = { ref: refMessage(ref, namespace, name), options: Object.keys(body).length === 0 ? Buffer.alloc(0) : encodeJson(body) };
    return decodeObject<KubeObject | Status>(await this.unary<pb.ObjectResponse>('Delete', request, timeoutMs === undefined ? {} : { timeoutMs }, false));
  }

  async bind(namespace: string, podName: string, binding: Binding, options: WriteOptions = {}): Promise<void> {
    const request: pb.BindRequest = { ref: refMessage(RESOURCES.pods, namespace, podName), binding: encodeJson(binding), options: writeOptions(options) };
    await this.unary<pb.ObjectResponse>('Bind', request, options, false);
  }

  override async bindMany(items: readonly BindItem[], options: WriteOptions = {}): Promise<(ApiError | undefined)[]> {
    if (items.length === 0) return [];
    const write = writeOptions(options);
    const request: pb.BindManyRequest = {
      items: items.map((item) => ({ ref: refMessage(RESOURCES.pods, item.namespace, item.podName), binding: encodeJson(item.binding), options: write })),
    };
    const response = await this.unary<pb.BindManyResponse>('BindMany', request, options, false);
    // The server answers one result per item; anything else is a server bug, reported per item rather than guessed at.
    return items.map((_, index) => {
      const result = response.results[index];
      if (result === undefined) return new ApiError(500, 'InternalError', `BindMany answered ${response.results.length} results for ${items.length} items`);
      if (result.result !== 'error' || result.error === undefined) return undefined;
      return ApiError.fromStatus(decodeJson<Status>(result.error));
    });
  }

  async evict(namespace: string, podName: string, eviction?: Eviction, options: CallOptions = {}): Promise<void> {
    const request: pb.EvictRequest = { ref: refMessage(RESOURCES.pods, namespace, podName), eviction: eviction === undefined ? Buffer.alloc(0) : encodeJson(eviction) };
    await this.unary<pb.ObjectResponse>('Evict', request, options, false);
  }

  async getScale(ref: ResourceRef, namespace: string, name: string, options: CallOptions = {}): Promise<Scale> {
    const request: pb.GetScaleRequest = { ref: refMessage(ref, namespace, name) };
    return decodeObject<Scale>(await this.unary<pb.ObjectResponse>('GetScale', request, options, true));
  }

  async updateScale(ref: ResourceRef, namespace: string, name: string, scale: Scale, options: WriteOptions = {}): Promise<Scale> {
    const request: pb.UpdateScaleRequest = { ref: refMessage(ref, namespace, name), scale: encodeJson(scale), options: writeOptions(options) };
    return decodeObject<Scale>(await this.unary<pb.ObjectResponse>('UpdateScale', request, options, false));
  }

  private method(name: pb.ApiServerMethod): grpc.MethodDefinition<unknown, unknown> {
    const method = this.methods[name];
    // The proto and this file ship together; a missing method is a build bug.
    if (method === undefined) throw new Error(`apiserver.proto has no method ${name}`);
    return method;
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    const token = typeof this.options.token === 'function' ? this.options.token() : this.options.token;
    if (token !== undefined && token !== '') metadata.set('authorization', `Bearer ${token}`);
    return metadata;
  }

  private async unary<Response>(name: pb.ApiServerMethod, request: unknown, options: CallOptions, retryable: boolean): Promise<Response> {
    const timeoutMs = options.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadlineMs = Date.now() + timeoutMs;
    const retries = retryable ? (this.options.readRetries ?? 3) : 0;
    let backoffMs = this.options.retryBackoffMs ?? 100;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.callOnce<Response>(name, request, deadlineMs);
      } catch (error) {
        if (error instanceof ClientClosedError) throw error;
        const apiError = apiErrorFromGrpc(error);
        const retryInMs = Math.min(backoffMs, MAX_RETRY_BACKOFF_MS);
        if (attempt >= retries || !isServiceUnavailable(apiError) || Date.now() + retryInMs >= deadlineMs || this.closed) throw apiError;
        this.logger.debug('retrying read while the API server is unavailable', { method: name, attempt: attempt + 1, retryInMs, error: apiError.message });
        await sleep(retryInMs);
        backoffMs *= 2;
      }
    }
  }

  private callOnce<Response>(name: pb.ApiServerMethod, request: unknown, deadlineMs: number): Promise<Response> {
    if (this.closed) return Promise.reject(new ClientClosedError());
    const method = this.method(name);
    return new Promise<Response>((resolve, reject) => {
      this.client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, this.metadata(), { deadline: deadlineMs }, (error, response) => {
        if (error) reject(error);
        else resolve(response as Response);
      });
    });
  }
}

const PATCH_TYPE_NAMES: Record<PatchType, pb.PatchTypeName> = {
  json: 'JSON_PATCH',
  merge: 'MERGE_PATCH',
  strategic: 'STRATEGIC_MERGE_PATCH',
};

function refMessage(ref: ResourceRef, namespace: string | undefined, name: string): pb.ResourceRefMessage {
  return { group: ref.group, version: ref.version, resource: ref.resource, namespace: namespace ?? '', name };
}

function writeOptions(options: WriteOptions): pb.WriteOptionsMessage {
  return { dry_run: options.dryRun ?? false, field_manager: options.fieldManager ?? '' };
}

/** JSON bytes of a value, as every envelope carries objects. */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** Parses envelope bytes; a malformed answer becomes a 500 ApiError rather than a SyntaxError deep in a controller. */
export function decodeJson<T>(bytes: Buffer | Uint8Array): T {
  try {
    // A view, not Buffer.from(bytes): that would copy every watch event's bytes before parsing them.
    const view = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return JSON.parse(view.toString('utf8')) as T;
  } catch (error) {
    throw new ApiError(500, 'InternalError', `the server sent malformed JSON (${bytes.length} bytes)`, undefined, { cause: error });
  }
}

function decodeObject<T>(response: pb.ObjectResponse): T {
  return decodeJson<T>(response.object);
}

function toBuffer(pem: string | Buffer): Buffer {
  return typeof pem === 'string' ? Buffer.from(pem) : pem;
}

function toBufferOrNull(pem: string | Buffer | undefined): Buffer | null {
  return pem === undefined ? null : toBuffer(pem);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
