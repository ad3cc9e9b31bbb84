// The gRPC front end (proto/apiserver.proto), for kube-lite's own components.
// Every call runs the same pipeline as an HTTPS request: authenticate with the
// shared Authenticator -> authorize with the shared Authorizer -> route to the
// ServedResource's handler (or subresource handler) -> call the one handler
// method REST would call, with the same RequestContext. So one registry serves
// both front ends and a component sees exactly what kubectl would.
//
// It listens on its own port (default 6444, next to HTTPS on 6443): grpc-js
// owns its HTTP/2 server and cannot share Node's HTTPS listener, and a port of
// its own keeps the REST frame free of gRPC framing.

import { randomInt } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { API_SERVER_SERVICE_NAME, encodeJson, loadApiServerPackageDefinition, statusToServiceError, type apiserverpb } from '@kube-lite/client';
import { ANONYMOUS_USER, forbiddenMessage, type AuthenticationResult, type Authenticator, type Authorizer, type UserInfo } from '../auth';
import type { GroupResource, RequestContext, ResourceHandler, ServedResource } from '../server';
import { ApiServerMetrics, Logger, StatusError, badRequest, forbidden, methodNotAllowed, pathNotFound, timeout, toStatusError, unauthorized } from '../server';
import {
  authorizationAttributes,
  decodeDeleteOptions,
  decodeObject,
  decodeOptionalObject,
  decodePatch,
  planBind,
  planCreate,
  planDelete,
  planEvict,
  planGet,
  planGetScale,
  planList,
  planPatch,
  planUpdate,
  planUpdateScale,
  planWatch,
  type CallPlan,
} from './call-plan';
import { authenticateCall } from './caller';
import { serverCredentials, type GrpcTlsMaterial } from './credentials';
import { serveGrpcWatch, type ActiveGrpcWatch, type WatchStreamCall } from './watch-stream';

/** The port upstream has no equivalent for; one above kube-apiserver's 6443. */
export const DEFAULT_GRPC_PORT = 6444;

/** Most items one BindMany call may carry (proto/apiserver.proto says so); bounds the work one call starts. */
export const MAX_BIND_MANY_ITEMS = 1000;

export interface GrpcFrontEndOptions {
  /** The resources to serve: the same list the HTTPS server gets, so both serve one registry. */
  handlers: readonly ServedResource[];
  /** The HTTPS server's authenticator: bearer tokens (`authorization` metadata) and client certificates. */
  authenticator: Authenticator;
  /** The HTTPS server's authorizer, asked the same question for the same request. */
  authorizer: Authorizer;
  /** Serving certificate and key, and the cluster CA for client certificates: the HTTPS server's material. */
  tls: GrpcTlsMaterial;
  /** Address to listen on; default 0.0.0.0. */
  bindAddress?: string;
  /** Port to listen on (kube-apiserver --grpc-port); 0 picks a free one (tests). Default 6444. */
  port?: number;
  logger?: Logger;
  /** Shared with the HTTPS server so /metrics counts requests from both front ends. */
  metrics?: ApiServerMetrics;
  /** Deadline of a unary call, whatever deadline the client set; default 60 s as for REST requests. */
  requestTimeoutSeconds?: number;
  /** Watches without timeout_seconds last a random time in [min, 2*min) seconds; default 1800, as REST. */
  minRequestTimeoutSeconds?: number;
  /** Events a watch may queue unread by its client before it is closed; default 10000. */
  maxWatchQueuedEvents?: number;
  /** Most events one Watch stream message carries; default 256 (1 sends each event on its own). */
  maxWatchBatchEvents?: number;
  /** Largest request message accepted; default 4 MiB (REST accepts 3 MiB bodies; the envelope needs a little more). */
  maxRequestMessageBytes?: number;
}

export interface RunningGrpcFrontEnd {
  /** The bound port (useful with port 0). */
  port: number;
  /** Ends every watch, refuses new calls, and cancels calls still running after `graceMs` (default 2000). */
  stop(graceMs?: number): Promise<void>;
}

const upperVerbs: Record<CallPlan['verb'], string> = {
  get: 'GET',
  list: 'LIST',
  watch: 'WATCH',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETE',
};

/** What a unary RPC does once the pipeline has found the handler. */
interface Prepared<Response> {
  plan: CallPlan;
  /** Calls the handler; `code` is the HTTP status REST would answer with (for logs and metrics). */
  invoke(handler: ResourceHandler, context: RequestContext, resource: GroupResource): Promise<{ response: Response; code: number }>;
}

interface ObjectAnswer {
  response: apiserverpb.ObjectResponse;
  code: number;
}

function objectAnswer(object: unknown, code: number): ObjectAnswer {
  return { response: { object: encodeJson(object) }, code };
}

function requireMethod<K extends keyof ResourceHandler>(handler: ResourceHandler, method: K, resource: GroupResource, verb: string): NonNullable<ResourceHandler[K]> {
  const bound = handler[method];
  if (bound === undefined) throw methodNotAllowed(resource, verb);
  return (bound as (...args: unknown[]) => unknown).bind(handler) as NonNullable<ResourceHandler[K]>;
}

interface ListShape {
  kind?: string;
  apiVersion?: string;
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items?: unknown;
}

function listResponse(list: unknown): apiserverpb.ListResponse {
  const shape = list as ListShape;
  // A handler's list is always a List object; anything else is a bug in it.
  if (typeof list !== 'object' || list === null || !Array.isArray(shape.items)) throw new Error('list handler returned no items array');
  const response: apiserverpb.ListResponse = {
    items: shape.items.map((item) => encodeJson(item)),
    resource_version: shape.metadata?.resourceVersion ?? '',
    continue_token: shape.metadata?.continue ?? '',
    kind: shape.kind ?? '',
    api_version: shape.apiVersion ?? '',
  };
  if (typeof shape.metadata?.remainingItemCount === 'number') response.remaining_item_count = shape.metadata.remainingItemCount;
  return response;
}

function warningTrailer(warnings: readonly string[]): grpc.Metadata | undefined {
  if (warnings.length === 0) return undefined;
  const metadata = new grpc.Metadata();
  // The HTTP Warning header's format, so a client can print them as kubectl does.
  for (const warning of warnings) metadata.add('warning', `299 - "${warning.replace(/[\\"]/g, (character) => `\\${character}`).replace(/[\r\n]+/g, ' ')}"`);
  return metadata;
}

class GrpcFrontEnd {
  private readonly server: grpc.Server;
  private readonly handlers = new Map<string, ServedResource>();
  private readonly logger: Logger;
  private readonly metrics: ApiServerMetrics;
  private readonly activeWatches = new Set<ActiveGrpcWatch>();
  private readonly requestTimeoutSeconds: number;
  private readonly minRequestTimeoutSeconds: number;
  private readonly maxWatchQueuedEvents: number;

  constructor(private readonly options: GrpcFrontEndOptions) {
    this.logger = options.logger ?? new Logger();
    this.metrics = options.metrics ?? new ApiServerMetrics();
    this.requestTimeoutSeconds = options.requestTimeoutSeconds ?? 60;
    this.minRequestTimeoutSeconds = options.minRequestTimeoutSeconds ?? 1800;
    this.maxWatchQueuedEvents = options.maxWatchQueuedEvents ?? 10_000;
    for (const served of options.handlers) {
      const { group, version, name } = served.description;
      const key = `${group}/${version}/${name}`;
      if (this.handlers.has(key)) throw new Error(`resource ${key} is registered twice`);
      this.handlers.set(key, served);
    }
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxRequestMessageBytes ?? 4 * 1024 * 1024,
      // Components keep a watch open for minutes with nothing to say; their keepalive pings must be welcome.
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    });
    const definition = loadApiServerPackageDefinition()[API_SERVER_SERVICE_NAME] as grpc.ServiceDefinition;
    this.server.addService(definition, this.implementation());
  }

  async start(): Promise<number> {
    const address = this.options.bindAddress ?? '0.0.0.0';
    const host = address.includes(':') ? `[${address}]` : address;
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(`${host}:${this.options.port ?? DEFAULT_GRPC_PORT}`, serverCredentials(this.options.tls), (error, bound) => (error ? reject(error) : resolve(bound)));
    });
    this.logger.info('serving gRPC securely', { address, port });
    return port;
  }

  async stop(graceMs: number): Promise<void> {
    for (const watch of [...this.activeWatches]) watch.finish('server-stopping');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private implementation(): grpc.UntypedServiceImplementation {
    return {
      Get: this.unary<apiserverpb.GetRequest, apiserverpb.ObjectResponse>((request) => ({
        plan: planGet(request),
        invoke: async (handler, context, resource) => objectAnswer(await requireMethod(handler, 'get', resource, 'get')(context), 200),
      })),
      List: this.unary<apiserverpb.ListRequest, apiserverpb.ListResponse>((request) => ({
        plan: planList(request),
        invoke: async (handler, context, resource) => ({ response: listResponse(await requireMethod(handler, 'list', resource, 'list')(context)), code: 200 }),
      })),
      Watch: (call: WatchStreamCall) => void this.watch(call),
      Create: this.unary<apiserverpb.CreateRequest, apiserverpb.ObjectResponse>((request) => ({
        plan: planCreate(request),
        invoke: async (handler, context, resource) => {
          const create = requireMethod(handler, 'create', resource, 'create');
          return objectAnswer(await create(context, decodeObject(request.object, 'object')), 201);
        },
      })),
      Update: this.unary<apiserverpb.UpdateRequest, apiserverpb.ObjectResponse>((request) => this.prepareUpdate(planUpdate(request, false), request.object, 'object')),
      UpdateStatus: this.unary<apiserverpb.UpdateRequest, apiserverpb.ObjectResponse>((request) => this.prepareUpdate(planUpdate(request, true), request.object, 'object')),
      Patch: this.unary<apiserverpb.PatchRequest, apiserverpb.ObjectResponse>((request) => ({
        plan: planPatch(request),
        invoke: async (handler, context, resource) => {
          const patch = requireMethod(handler, 'patch', resource, 'patch');
          const result = await patch(context, decodePatch(request));
          return objectAnswer(result.object, result.created ? 201 : 200);
        },
      })),
      Delete: this.unary<apiserverpb.DeleteRequest, apiserverpb.ObjectResponse>((request) => ({
        plan: planDelete(request),
        invoke: async (handler, context, resource) => {
          const remove = requireMethod(handler, 'delete', resource, 'delete');
          const result = await remove(context, decodeDeleteOptions(request));
          return objectAnswer(result.object, result.accepted === true ? 202 : 200);
        },
      })),
      Bind: this.unary<apiserverpb.BindRequest, apiserverpb.ObjectResponse>((request) => this.prepareBind(request)),
      BindMany: (call: grpc.ServerUnaryCall<apiserverpb.BindManyRequest, apiserverpb.BindManyResponse>, callback: grpc.sendUnaryData<apiserverpb.BindManyResponse>) => {
        const startedAt = process.hrtime.bigint();
        void this.bindMany(call).then(
          (response) => callback(null, response),
          (thrown: unknown) => {
            // Only the call as a whole failed here (bad credentials, too many items): its items never ran, so this is its one log line.
            const error = toStatusError(thrown);
            this.finish(call.getPath(), undefined, ANONYMOUS_USER, error.code, startedAt, false, error);
            callback(statusToServiceError(error.toStatus()));
          },
        );
      },
      Evict: this.unary<apiserverpb.EvictRequest, apiserverpb.ObjectResponse>((request) => {
        const eviction = decodeOptionalObject(request.eviction, 'eviction');
        return {
          plan: planEvict(request, eviction),
          invoke: async (handler, context, resource) => {
            // An empty eviction means the defaults: a policy/v1 Eviction naming the pod.
            const body = eviction ?? { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: context.name, namespace: context.namespace } };
            return objectAnswer(await requireMethod(handler, 'create', resource, 'create')(context, body), 201);
          },
        };
      }),
      GetScale: this.unary<apiserverpb.GetScaleRequest, apiserverpb.ObjectResponse>((request) => ({
        plan: planGetScale(request),
        invoke: async (handler, context, resource) => objectAnswer(await requireMethod(handler, 'get', resource, 'get')(context), 200),
      })),
      UpdateScale: this.unary<apiserverpb.UpdateScaleRequest, apiserverpb.ObjectResponse>((request) => this.prepareUpdate(planUpdateScale(request), request.scale, 'scale')),
    };
  }

  private prepareBind(request: apiserverpb.BindRequest): Prepared<apiserverpb.ObjectResponse> {
    return {
      plan: planBind(request),
      invoke: async (handler, context, resource) => objectAnswer(await requireMethod(handler, 'create', resource, 'create')(context, decodeObject(request.binding, 'binding')), 201),
    };
  }

  /**
   * Authenticates once, then runs every item through Bind's own pipeline (authorize, route, handler, one log line
   * and one metrics observation each), all at once: a failed item answers its Status and leaves the others alone.
   */
  private async bindMany(call: grpc.ServerUnaryCall<apiserverpb.BindManyRequest, apiserverpb.BindManyResponse>): Promise<apiserverpb.BindManyResponse> {
    const items = call.request.items;
    if (items.length > MAX_BIND_MANY_ITEMS) throw badRequest(`BindMany: ${items.length} items, at most ${MAX_BIND_MANY_ITEMS} are allowed`);
    const authentication = this.authenticate(call);
    const controller = new AbortController();
    const onCancelled = (): void => controller.abort();
    call.on('cancelled', onCancelled);
    try {
      const results = await Promise.all(
        items.map(async (item): Promise<apiserverpb.BindResultMessage> => {
          const { response, error } = await this.runPrepared(call, () => this.prepareBind(item), authentication, controller);
          return error === undefined ? { object: response?.object ?? Buffer.alloc(0) } : { error: encodeJson(error.toStatus()) };
        }),
      );
      return { results };
    } finally {
      call.removeListener('cancelled', onCancelled);
    }
  }

  private prepareUpdate(plan: CallPlan, bytes: Buffer, field: string): Prepared<apiserverpb.ObjectResponse> {
    return {
      plan,
      invoke: async (handler, context, resource) => {
        const update = requireMethod(handler, 'update', resource, 'update');
        const result = await update(context, decodeObject(bytes, field));
        return objectAnswer(result.object, result.created ? 201 : 200);
      },
    };
  }

  /** The caller, from the call's metadata and certificate; throws 401 for rejected credentials. */
  private authenticate(call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext'>): AuthenticationResult {
    const authorization = call.metadata.get('authorization')[0];
    const result = authenticateCall(this.options.authenticator, {
      authorization: typeof authorization === 'string' ? authorization : undefined,
      peerCertificate: call.getAuthContext().sslPeerCertificate,
    });
    if (result.kind === 'rejected') {
      this.logger.debug('authentication failed', { reason: result.reason, transport: 'grpc' });
      throw unauthorized();
    }
    return result;
  }

  /** authenticate -> authorize, as ApiServer.authenticateAndAuthorize does for HTTPS. */
  private async admit(call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext'>, plan: CallPlan): Promise<UserInfo> {
    return this.authorize(this.authenticate(call), plan);
  }

  /** The authorizer's verdict on an authenticated (or anonymous) caller for one plan. */
  private async authorize(result: AuthenticationResult, plan: CallPlan): Promise<UserInfo> {
    if (result.kind === 'rejected') throw unauthorized();
    const user = result.kind === 'authenticated' ? result.user : ANONYMOUS_USER;
    const attributes = authorizationAttributes(plan, user);
    const decision = await this.options.authorizer.authorize(attributes);
    if (decision.allowed) return user;
    // Anonymous callers are told to authenticate rather than that they lack permission.
    if (result.kind === 'anonymous') throw unauthorized();
    const detail = decision.reason === '' ? forbiddenMessage(attributes) : `${forbiddenMessage(attributes)}: ${decision.reason}`;
    throw forbidden({ group: plan.group, resource: plan.resource }, plan.name, detail);
  }

  /** The handler for the plan, with the HTTPS router's scope and subresource rules. */
  private route(plan: CallPlan): ResourceHandler {
    const served = this.handlers.get(`${plan.group}/${plan.version}/${plan.resource}`);
    if (served === undefined) throw pathNotFound();
    const { namespaced } = served.description;
    if (!namespaced && plan.namespace !== '') throw pathNotFound();
    if (namespaced && plan.namespace === '' && plan.verb !== 'list' && plan.verb !== 'watch') throw pathNotFound();
    const handler = plan.subresource === '' ? served.handler : served.handler.subresources?.[plan.subresource];
    if (handler === undefined) throw pathNotFound();
    // logs, exec and port-forward stream raw bytes: they are served over HTTPS only.
    if (handler.connect !== undefined) throw methodNotAllowed({ group: plan.group, resource: `${plan.resource}/${plan.subresource}` }, 'gRPC');
    return handler;
  }

  private context(plan: CallPlan, user: UserInfo, signal: AbortSignal, warnings: string[]): RequestContext {
    return {
      user,
      verb: plan.verb,
      group: plan.group,
      version: plan.version,
      resource: plan.resource,
      subresource: plan.subresource,
      namespace: plan.namespace,
      name: plan.name,
      list: plan.list,
      write: plan.write,
      output: {},
      query: plan.query,
      signal,
      addWarning: (message) => {
        if (warnings.length < 50) warnings.push(message);
      },
    };
  }

  private unary<Request, Response>(prepare: (request: Request) => Prepared<Response>): grpc.handleUnaryCall<Request, Response> {
    return (call, callback) => {
      void this.runUnary(call, prepare).then(({ response, trailer, error }) => {
        if (error !== undefined) callback(statusToServiceError(error.toStatus()));
        else callback(null, response, trailer);
      });
    };
  }

  private async runUnary<Request, Response>(
    call: grpc.ServerUnaryCall<Request, Response>,
    prepare: (request: Request) => Prepared<Response>,
  ): Promise<{ response?: Response; trailer?: grpc.Metadata; error?: StatusError }> {
    const controller = new AbortController();
    const onCancelled = (): void => controller.abort();
    call.on('cancelled', onCancelled);
    try {
      return await this.runPrepared(call, () => prepare(call.request), undefined, controller);
    } finally {
      // grpc-js also reports a call as cancelled after its answer, when the stream closes: aborting then would only build a DOMException.
      call.removeListener('cancelled', onCancelled);
    }
  }

  /**
   * One request through the pipeline: plan, authenticate (unless `authentication` is given: a BindMany item),
   * authorize, route, invoke within the request deadline, then one log line and one metrics observation.
   * `controller` is the handler's signal: aborted by the caller when the call is cancelled, and here when the
   * deadline passes (BindMany items share one: they all start together, so they share the deadline too).
   */
  private async runPrepared<Response>(
    call: Pick<grpc.ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext' | 'getPath' | 'cancelled'>,
    prepare: () => Prepared<Response>,
    authentication: AuthenticationResult | undefined,
    controller: AbortController,
  ): Promise<{ response?: Response; trailer?: grpc.Metadata; error?: StatusError }> {
    const startedAt = process.hrtime.bigint();
    let plan: CallPlan | undefined;
    let user = ANONYMOUS_USER;
    let code = 500;
    let error: StatusError | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const prepared = prepare();
      plan = prepared.plan;
      user = authentication === undefined ? await this.admit(call, plan) : await this.authorize(authentication, plan);
      const handler = this.route(plan);
      const warnings: string[] = [];
      const context = this.context(plan, user, controller.signal, warnings);
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(timeout('request did not complete within requested timeout - context deadline exceeded', 0));
        }, this.requestTimeoutSeconds * 1000);
      });
      const answer = await Promise.race([prepared.invoke(handler, context, { group: plan.group, resource: plan.resource }), deadline]);
      code = answer.code;
      const trailer = warningTrailer(warnings);
      return trailer === undefined ? { response: answer.response } : { response: answer.response, trailer };
    } catch (thrown) {
      error = toStatusError(thrown);
      code = error.code;
      if (error.code >= 500) this.logger.error('request failed', { rpc: call.getPath(), path: plan?.path, error: error.cause ?? error });
      return { error };
    } finally {
      clearTimeout(timer);
      this.finish(call.getPath(), plan, user, call.cancelled ? 499 : code, startedAt, false, error);
    }
  }

  private async watch(call: WatchStreamCall): Promise<void> {
    const startedAt = process.hrtime.bigint();
    let plan: CallPlan | undefined;
    let user = ANONYMOUS_USER;
    const controller = new AbortController();
    try {
      plan = planWatch(call.request);
      user = await this.admit(call, plan);
      const handler = this.route(plan);
      const watchFunction = requireMethod(handler, 'watch', { group: plan.group, resource: plan.resource }, 'watch');
      const context = this.context(plan, user, controller.signal, []);
      const labels = this.labels(plan);
      const untrack = this.metrics.trackLongRunning(labels);
      let active: ActiveGrpcWatch;
      try {
        active = await serveGrpcWatch(call, { watch: watchFunction }, context, {
          timeoutMs: this.watchTimeoutMs(context.list.timeoutSeconds),
          maxQueuedEvents: this.maxWatchQueuedEvents,
          maxBatchEvents: this.options.maxWatchBatchEvents,
          controller,
        });
      } catch (error) {
        untrack();
        throw error;
      }
      this.activeWatches.add(active);
      const watchPlan = plan;
      void active.done.then((reason) => {
        this.activeWatches.delete(active);
        untrack();
        this.finish(call.getPath(), watchPlan, user, reason === 'client-cancelled' ? 499 : 200, startedAt, true, undefined, reason);
      });
    } catch (thrown) {
      const error = toStatusError(thrown);
      if (error.code >= 500) this.logger.error('request failed', { rpc: call.getPath(), path: plan?.path, error: error.cause ?? error });
      this.finish(call.getPath(), plan, user, error.code, startedAt, true, error);
      if (!call.cancelled) call.emit('error', statusToServiceError(error.toStatus()));
    }
  }

  private watchTimeoutMs(timeoutSeconds: number | undefined): number {
    if (timeoutSeconds !== undefined && timeoutSeconds > 0) return timeoutSeconds * 1000;
    // Spread reconnects of many clients over [min, 2*min), as upstream does.
    const minimumMs = this.minRequestTimeoutSeconds * 1000;
    return minimumMs + randomInt(0, Math.max(1, minimumMs));
  }

  private labels(plan: CallPlan | undefined): { verb: string; group: string; version: string; resource: string; subresource: string; scope: string } {
    if (plan === undefined) return { verb: 'UNKNOWN', group: '', version: '', resource: '', subresource: '', scope: '' };
    const scope = plan.name !== '' ? 'resource' : plan.namespace !== '' ? 'namespace' : 'cluster';
    return { verb: upperVerbs[plan.verb], group: plan.group, version: plan.version, resource: plan.resource, subresource: plan.subresource, scope };
  }

  /** One metrics observation and one log line per call, as the HTTPS front end writes per request. */
  private finish(rpc: string, plan: CallPlan | undefined, user: UserInfo, code: number, startedAt: bigint, longRunning: boolean, error?: StatusError, reason?: string): void {
    const latencySeconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    const labels = this.labels(plan);
    this.metrics.observe(labels, code, latencySeconds);
    const fields: Record<string, unknown> = { transport: 'grpc', rpc, path: plan?.path, verb: labels.verb, user: user.name, code, latencyMs: Math.round(latencySeconds * 1e6) / 1000 };
    if (reason !== undefined) fields.reason = reason;
    if (code >= 500) this.logger.warn('request', { ...fields, reason: error?.reason ?? reason });
    else if (longRunning || (plan !== undefined && plan.verb !== 'get' && plan.verb !== 'list')) this.logger.info('request', fields);
    else this.logger.debug('request', fields);
  }
}

/** Starts serving proto/apiserver.proto; resolves once listening. */
export async function startGrpcFrontEnd(options: GrpcFrontEndOptions): Promise<RunningGrpcFrontEnd> {
  const frontEnd = new GrpcFrontEnd(options);
  const port = await frontEnd.start();
  return { port, stop: (graceMs = 2000) => frontEnd.stop(graceMs) };
}
