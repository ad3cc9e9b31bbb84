// One watch over a gRPC server stream: the handler pushes events into a
// WatchSink, each becomes a WatchEvent message. As in the REST frame, the
// frame owns the lifetime: the watch ends on timeout, client cancel, a client
// too slow to read, server shutdown, or when the handler ends or fails it;
// the handler's subscription is stopped exactly once.

import type * as grpc from '@grpc/grpc-js';
import { statusToServiceError, type apiserverpb } from '@kube-lite/client';
import type { RequestContext, ResourceHandler, WatchEvent, WatchSink, WatchSubscription } from '../server';
import { StatusError, toStatusError, tooManyRequests } from '../server';
import { encodeSharedJson } from './shared-encoding';

export type GrpcWatchEndReason = 'timeout' | 'client-cancelled' | 'handler-ended' | 'handler-failed' | 'slow-client' | 'server-stopping';

export interface GrpcWatchOptions {
  /** How long the stream lives before the server ends it normally (the client re-watches). */
  timeoutMs: number;
  /** Events queued unsent (the client reads too slowly) before the watch is cut off; bounds memory per watch. */
  maxQueuedEvents: number;
  /** Aborted when the watch ends; the handler sees it as context.signal and sink.signal. */
  controller: AbortController;
}

/** A running watch, so the front end can end it on shutdown. */
export interface ActiveGrpcWatch {
  finish(reason: GrpcWatchEndReason): void;
  readonly done: Promise<GrpcWatchEndReason>;
}

export type WatchStreamCall = grpc.ServerWritableStream<apiserverpb.WatchRequest, apiserverpb.WatchEventMessage>;

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
  let ended = false;
  let sentAny = false;
  let subscription: WatchSubscription | undefined;
  let resolveDone: (reason: GrpcWatchEndReason) => void = () => {};
  const done = new Promise<GrpcWatchEndReason>((resolve) => {
    resolveDone = resolve;
  });

  const finish = (reason: GrpcWatchEndReason, error?: StatusError): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    options.controller.abort();
    subscription?.stop();
    if (reason !== 'client-cancelled' && !call.cancelled) {
      // The status trails the queued events; `error` ends the call with that status instead of OK.
      if (error !== undefined) call.emit('error', statusToServiceError(error.toStatus()));
      else call.end();
    }
    resolveDone(reason);
  };

  const write = (event: WatchEvent): void => {
    sentAny = true;
    call.write({ type: event.type, object: encodeSharedJson(event.object) });
    // Object mode: writableLength counts messages not yet handed to HTTP/2 flow control.
    if (call.writableLength > options.maxQueuedEvents) {
      finish('slow-client', tooManyRequests(`watch closed: the client left more than ${options.maxQueuedEvents} events unread`, 1));
    }
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
