// One watch over a gRPC server stream: the handler pushes events into a
// WatchSink; events pushed in the same turn of the event loop leave together
// as one WatchEventBatch message (grpc-js and HTTP/2 cost about as much per
// message as the event's bytes do, and the watch cache hands a burst of
// events over at once). As in the REST frame, the frame owns the lifetime:
// the watch ends on timeout, client cancel, a client too slow to read, server
// shutdown, or when the handler ends or fails it; the handler's subscription
// is stopped exactly once.

import type * as grpc from '@grpc/grpc-js';
import { statusToServiceError, type apiserverpb } from '@kube-lite/client';
import type { RequestContext, ResourceHandler, WatchEvent, WatchSink, WatchSubscription } from '../server';
import { StatusError, toStatusError, tooManyRequests } from '../server';
import { encodeSharedJson } from './shared-encoding';

/** Default most events in one WatchEventBatch: bounds one message's size and the client's work per message. */
export const DEFAULT_MAX_BATCH_EVENTS = 256;
/** Default most object bytes in one WatchEventBatch; a batch that reaches it is sent at once. */
export const DEFAULT_MAX_BATCH_BYTES = 1024 * 1024;

export type GrpcWatchEndReason = 'timeout' | 'client-cancelled' | 'handler-ended' | 'handler-failed' | 'slow-client' | 'server-stopping';

export interface GrpcWatchOptions {
  /** How long the stream lives before the server ends it normally (the client re-watches). */
  timeoutMs: number;
  /** Events queued unsent (the client reads too slowly) before the watch is cut off; bounds memory per watch. */
  maxQueuedEvents: number;
  /** Aborted when the watch ends; the handler sees it as context.signal and sink.signal. */
  controller: AbortController;
  /** Most events in one stream message; default DEFAULT_MAX_BATCH_EVENTS. 1 sends every event on its own. */
  maxBatchEvents?: number;
  /** Most object bytes in one stream message (a single larger event still goes alone); default DEFAULT_MAX_BATCH_BYTES. */
  maxBatchBytes?: number;
}

/** A running watch, so the front end can end it on shutdown. */
export interface ActiveGrpcWatch {
  finish(reason: GrpcWatchEndReason): void;
  readonly done: Promise<GrpcWatchEndReason>;
}

export type WatchStreamCall = grpc.ServerWritableStream<apiserverpb.WatchRequest, apiserverpb.WatchEventBatchMessage>;

/**
 * Starts the watch. Resolves once the handler subscribed; rejects with its StatusError when it failed before
 * anything was sent (other than 410, which upstream reports as an ERROR event), so the caller can end the call
 * with an ordinary error status.
 */
export async function serveGrpcWatch(
  call: WatchStreamCall,
  handler: Required<Pick<ResourceHandler, 'watch'>>,
  context: RequestContext,
  options: GrpcWatchOptions,
): Promise<ActiveGrpcWatch> {
  const maxBatchEvents = Math.max(1, options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS);
  const maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  let ended = false;
  let sentAny = false;
  let subscription: WatchSubscription | undefined;
  let resolveDone: (reason: GrpcWatchEndReason) => void = () => {};
  const done = new Promise<GrpcWatchEndReason>((resolve) => {
    resolveDone = resolve;
  });
  // Events of this turn not yet written, and events written but not yet handed to HTTP/2 flow control.
  let batch: apiserverpb.WatchEventMessage[] = [];
  let batchBytes = 0;
  let flushTimer: NodeJS.Immediate | undefined;
  let unsentEvents = 0;

  const flush = (): void => {
    if (flushTimer !== undefined) {
      clearImmediate(flushTimer);
      flushTimer = undefined;
    }
    if (batch.length === 0) return;
    const events = batch;
    batch = [];
    batchBytes = 0;
    unsentEvents += events.length;
    call.write({ events }, () => {
      unsentEvents -= events.length;
    });
    if (!ended && unsentEvents > options.maxQueuedEvents) {
      finish('slow-client', tooManyRequests(`watch closed: the client left more than ${options.maxQueuedEvents} events unread`, 1));
    }
  };

  const finish = (reason: GrpcWatchEndReason, error?: StatusError): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    options.controller.abort();
    subscription?.stop();
    if (reason !== 'client-cancelled' && !call.cancelled) {
      // The events of this turn go first; the status trails them. `error` ends the call with that status instead of OK.
      flush();
      if (error !== undefined) call.emit('error', statusToServiceError(error.toStatus()));
      else call.end();
    } else if (flushTimer !== undefined) {
      clearImmediate(flushTimer);
      flushTimer = undefined;
    }
    resolveDone(reason);
  };

  const write = (event: WatchEvent): void => {
    sentAny = true;
    const object = encodeSharedJson(event.object);
    if (batch.length > 0 && batchBytes + object.length > maxBatchBytes) flush();
    batch.push({ type: event.type, object });
    batchBytes += object.length;
    if (batch.length >= maxBatchEvents || batchBytes >= maxBatchBytes) flush();
    else flushTimer ??= setImmediate(flush);
  };

  const sink: WatchSink = {
    send(event) {
      if (ended) return false;
      if (event.type === 'BOOKMARK' && !context.list.allowWatchBookmarks) return true;
      write(event);
      return !ended;
    },
    fail(error) {
      if (ended) return;
      write({ type: 'ERROR', object: error.toStatus() });
      // finish() sends the ERROR event with the others of this turn, then ends the stream.
      finish('handler-failed');
    },
    end() {
      finish('handler-ended');
    },
    signal: options.controller.signal,
  };

  const timer = setTimeout(() => finish('timeout'), options.timeoutMs);
  call.on('cancelled', () => finish('client-cancelled'));

  try {
    subscription = await handler.watch(context, sink);
  } catch (error) {
    const statusError = toStatusError(error);
    if (!sentAny && !(error instanceof StatusError && statusError.code === 410)) {
      ended = true;
      clearTimeout(timer);
      options.controller.abort();
      throw statusError;
    }
    sink.fail(statusError);
    return { finish, done };
  }
  if (ended) subscription.stop();
  return { finish, done };
}
