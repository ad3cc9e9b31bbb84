// Serves one watch: a chunked 200 response carrying one JSON
// `{"type":...,"object":...}` frame per line, written (and so flushed as its
// own chunk) per event. The frame, not the handler, owns the lifetime: it ends
// the watch on timeout, on client disconnect, on a too-slow client, or when the
// handler ends or fails it, and then stops the handler's subscription once.

import type { ServerResponse } from 'node:http';
import type { RequestContext, ResourceHandler, WatchEvent, WatchSink, WatchSubscription } from './handler';
import { StatusError, toStatusError } from './status-error';

export interface WatchServeOptions {
  /** How long the watch lives before the server closes it (the client re-watches). */
  timeoutMs: number;
  /** A client that lets this many bytes pile up unread is cut off rather than buffering without bound. */
  maxBufferedBytes: number;
  /** Aborted when the watch ends; the handler sees it as context.signal and sink.signal. */
  controller: AbortController;
}

export type WatchEndReason = 'timeout' | 'client-closed' | 'handler-ended' | 'handler-failed' | 'slow-client' | 'server-stopping';

/** A running watch, so the server can end it on shutdown. */
export interface ActiveWatch {
  finish(reason: WatchEndReason): void;
  readonly done: Promise<WatchEndReason>;
}

/**
 * Starts the watch. Resolves once the stream has begun (or rejects with the handler's StatusError if it failed
 * before sending anything, so the caller can answer with an ordinary error response).
 */
export async function serveWatch(
  response: ServerResponse,
  handler: Required<Pick<ResourceHandler, 'watch'>>,
  context: RequestContext,
  options: WatchServeOptions,
): Promise<ActiveWatch> {
  let started = false;
  let ended = false;
  let subscription: WatchSubscription | undefined;
  let resolveDone: (reason: WatchEndReason) => void = () => {};
  const done = new Promise<WatchEndReason>((resolve) => {
    resolveDone = resolve;
  });

  const start = (): void => {
    if (started) return;
    started = true;
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    response.flushHeaders();
  };

  const finish = (reason: WatchEndReason): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    options.controller.abort();
    subscription?.stop();
    if (reason === 'slow-client') {
      // Its unread output is exactly what we must not keep: drop the connection rather than flush it.
      response.destroy();
    } else if (!response.destroyed) {
      start();
      response.end();
    }
    resolveDone(reason);
  };

  const write = (event: WatchEvent): void => {
    start();
    response.write(`${JSON.stringify(event)}\n`);
    if (response.writableLength > options.maxBufferedBytes) finish('slow-client');
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
  response.on('close', () => finish('client-closed'));

  try {
    subscription = await handler.watch(context, sink);
  } catch (error) {
    const statusError = toStatusError(error);
    if (!started && !(error instanceof StatusError && statusError.code === 410)) {
      // Nothing sent yet: let the caller answer with a normal error response.
      ended = true;
      clearTimeout(timer);
      options.controller.abort();
      throw statusError;
    }
    // Upstream reports a compacted resourceVersion as an ERROR event inside a 200 stream; clients relist on it.
    sink.fail(statusError);
    return { finish, done };
  }
  if (ended) subscription.stop();
  else start();
  return { finish, done };
}
