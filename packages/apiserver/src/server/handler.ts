// The contract between the HTTP frame and the per-resource REST logic. The frame
// authenticates, authorizes, parses the path, query, body and Accept header and
// then calls exactly one method of the resource's handler with a RequestContext;
// the handler returns plain objects (or throws a StatusError) and never touches
// HTTP except through `connect` (logs, exec, port-forward).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UserInfo } from '../auth';
import type { ResourceVerb } from './request-info';
import type { StatusError } from './status-error';

/** List and watch query parameters, still as strings where parsing needs the kind's schema. */
export interface ListOptions {
  /** Raw `labelSelector`; `` when absent. */
  labelSelector: string;
  /** Raw `fieldSelector`; `` when absent. The legacy /watch/.../name form adds `metadata.name=<name>` here. */
  fieldSelector: string;
  /** Page size; undefined means everything. */
  limit?: number;
  /** Opaque continue token from a previous page; `` when absent. */
  continue: string;
  /** `` (most recent, quorum read), `0` (any, e.g. from cache) or a specific revision. */
  resourceVersion: string;
  /** How `resourceVersion` is interpreted for lists; undefined means upstream's legacy rules. */
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  /** Whether the client understands BOOKMARK events; the frame drops bookmarks when false. */
  allowWatchBookmarks: boolean;
  /** Whether a watch should start with synthetic ADDED events for the current state (watch-list). */
  sendInitialEvents?: boolean;
  /** The watch's lifetime as the client asked for it; the frame enforces it, handlers need not. */
  timeoutSeconds?: number;
}

/** Query parameters of writes (POST, PUT, PATCH). */
export interface WriteOptions {
  /** Who makes the change, for managedFields (`kubectl-create`, `kubectl-client-side-apply`, ...); `` when absent. */
  fieldManager: string;
  /** What to do with unknown or duplicate fields: reject (Strict), warn (Warn, the default) or drop (Ignore). */
  fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  /** dryRun=All: validate and answer as if written, but persist nothing. */
  dryRun: boolean;
  /** Server-side apply: take ownership of conflicting fields instead of failing with 409. */
  force: boolean;
  /** Keys the body gave twice in one object (`spec.replicas`), set by the frame for POST and PUT; judged like unknown fields. */
  duplicateFields?: string[];
}

/** meta/v1 DeleteOptions merged from the query string and the request body (the body wins). */
export interface DeleteOptions {
  /** Seconds the object may take to terminate; undefined means the kind's default. */
  gracePeriodSeconds?: number;
  /** What happens to dependents; undefined means the kind's default. */
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  /** Only delete if the stored object still has this uid and/or resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
  /** dryRun=All: answer as if deleted, persist nothing. */
  dryRun: boolean;
}

/** How the client wants objects rendered. */
export interface OutputOptions {
  /** Set when the client asked for a meta.k8s.io Table (kubectl get); handlers that cannot build one return the plain object. */
  table?: {
    version: 'v1' | 'v1beta1';
    /** `includeObject` query parameter: what each row's `object` carries (kubectl asks for Metadata by default). */
    includeObject: 'None' | 'Metadata' | 'Object';
  };
}

/** Everything the frame knows about a resource request, handed to the handler. */
export interface RequestContext {
  /** The authenticated caller (already authorized for this verb and resource). */
  user: UserInfo;
  verb: ResourceVerb;
  /** `` for the core group. */
  group: string;
  version: string;
  /** Plural resource name, e.g. `configmaps`. */
  resource: string;
  /** `` or e.g. `status`, `scale`, `log`. */
  subresource: string;
  /** `` for cluster-scoped resources and for lists across all namespaces. */
  namespace: string;
  /** `` for collection requests. */
  name: string;
  list: ListOptions;
  write: WriteOptions;
  output: OutputOptions;
  /** The raw query string, for subresource-specific parameters (container, follow, tailLines, command, ...). */
  query: URLSearchParams;
  /** Aborted when the client goes away or the request times out: long operations should stop. */
  signal: AbortSignal;
  /** Adds a `Warning: 299 - "..."` response header (kubectl prints these as "Warning: ..."). */
  addWarning(message: string): void;
}

/** The result of a write that may create (PUT and apply-PATCH may create: 201 instead of 200). */
export interface WriteResult {
  object: unknown;
  created: boolean;
}

/** The result of a DELETE. */
export interface DeleteResult {
  /** The deleted object (or the object now carrying deletionTimestamp), or a Success Status. */
  object: unknown;
  /** True when deletion continues in the background (202 Accepted instead of 200). */
  accepted?: boolean;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** A decoded PATCH body: a JSON Patch array, or an object for the three merge-like types. */
export interface PatchRequest {
  type: PatchType;
  /** The parsed patch; for `apply` it was decoded from YAML or JSON. */
  patch: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: unknown;
}

/** Where a handler pushes watch events; the frame frames, flushes and times them out. */
export interface WatchSink {
  /** Writes one event; returns false once the watch has ended (the handler should stop sending). */
  send(event: WatchEvent): boolean;
  /** Ends the watch with an ERROR event carrying this Status (e.g. 410 Expired after compaction). */
  fail(error: StatusError): void;
  /** Ends the watch normally (the client will re-watch). */
  end(): void;
  /** Aborted when the watch ends for any reason. */
  readonly signal: AbortSignal;
}

/** A running watch; the frame calls stop() exactly once, on timeout, disconnect or end. */
export interface WatchSubscription {
  stop(): void;
}

/** A raw connection for streaming subresources (pods/log, pods/exec, pods/portforward). */
export type Connection =
  | { kind: 'http'; request: IncomingMessage; response: ServerResponse }
  | { kind: 'upgrade'; request: IncomingMessage; socket: Duplex; head: Buffer };

/**
 * The REST logic of one resource (or one subresource). Every method is optional: a verb whose method is missing
 * answers 405 MethodNotAllowed. Methods throw StatusError for expected failures (NotFound, Conflict, Invalid...);
 * anything else becomes a 500 InternalError and is logged.
 */
export interface ResourceHandler {
  get?(context: RequestContext): Promise<unknown>;
  list?(context: RequestContext): Promise<unknown>;
  /** Starts pushing events into the sink. Throwing a 410 StatusError here becomes an ERROR event, as upstream. */
  watch?(context: RequestContext, sink: WatchSink): Promise<WatchSubscription>;
  /** Answered with 201 and the returned object (or Status, for bindings and evictions). */
  create?(context: RequestContext, body: unknown): Promise<unknown>;
  update?(context: RequestContext, body: unknown): Promise<WriteResult>;
  patch?(context: RequestContext, patch: PatchRequest): Promise<WriteResult>;
  delete?(context: RequestContext, options: DeleteOptions): Promise<DeleteResult>;
  deleteCollection?(context: RequestContext, options: DeleteOptions): Promise<unknown>;
  /**
   * Takes over the connection for streaming subresources. Called instead of get/create when present; the handler
   * writes the whole response (or upgrade handshake) itself.
   */
  connect?(context: RequestContext, connection: Connection): Promise<void>;
  /** Handlers for `<resource>/<name>/<subresource>`, keyed by subresource name. */
  subresources?: Record<string, ResourceHandler>;
}

/** How a resource appears in discovery and OpenAPI; the caller builds these from its scheme. */
export interface ResourceDescription {
  /** `` for the core group. */
  group: string;
  version: string;
  kind: string;
  /** Plural, lower-case: the path segment (`configmaps`). */
  name: string;
  singularName: string;
  namespaced: boolean;
  /** Verbs listed in discovery (kubectl api-resources -o wide, and which commands kubectl allows). */
  verbs: string[];
  shortNames?: string[];
  /** E.g. `all` so that `kubectl get all` includes the resource. */
  categories?: string[];
  subresources?: SubresourceDescription[];
}

export interface SubresourceDescription {
  /** `status`, `scale`, `eviction`, ... */
  name: string;
  /** The kind of the subresource's body: `Scale`, `Eviction`, or the parent kind for `status`. */
  kind: string;
  verbs: string[];
  /** Set when the body's group differs from the parent's (pods/eviction is policy/v1). */
  group?: string;
  version?: string;
}

/** A resource the server serves: its description plus its REST logic. */
export interface ServedResource {
  description: ResourceDescription;
  handler: ResourceHandler;
}
