// The Watch service: one WatchStream of the watchable store per client
// stream. Requests create, cancel or ask for progress; the stream's updates
// (one per revision for live events, batched revisions when catching up)
// are written as WatchResponses, honouring the client's flow control.

import type * as grpc from '@grpc/grpc-js';
import { int64ToNumber } from '../etcdpb/int64';
import type * as pb from '../etcdpb/types';
import type { WatchStream, WatchUpdate } from '../mvcc';
import type { EtcdServer } from './etcd-server';
import { checkRequireLeader, toStatus } from './grpc-common';

/** etcd's watch id for "no watch": creation failures and stream-wide progress answers. */
const invalidWatchId = -1;

export function watchService(server: EtcdServer): grpc.UntypedServiceImplementation {
  return {
    Watch: (call: grpc.ServerDuplexStream<pb.WatchRequest, pb.WatchResponse>) => {
      try {
        checkRequireLeader(server, call.metadata);
      } catch (error) {
        call.emit('error', toStatus(error, server.logger, 'Watch'));
        return;
      }
      new WatchSession(server, call).start();
    },
  };
}

class WatchSession {
  private readonly stream: WatchStream;
  private waitingForDrain = false;
  private closed = false;

  constructor(
    private readonly server: EtcdServer,
    private readonly call: grpc.ServerDuplexStream<pb.WatchRequest, pb.WatchResponse>,
  ) {
    this.stream = server.watchable.newStream();
  }

  start(): void {
    this.stream.onReadable(() => this.pump());
    this.call.on('data', (request: pb.WatchRequest) => this.handle(request));
    this.call.on('end', () => {
      this.close();
      this.call.end();
    });
    this.call.on('cancelled', () => this.close());
    this.call.on('error', () => this.close());
    this.call.on('close', () => this.close());
  }

  private handle(request: pb.WatchRequest): void {
    if (this.closed) return;
    try {
      if ('create_request' in request && request.create_request != null) this.create(request.create_request);
      else if ('cancel_request' in request && request.cancel_request != null) this.cancel(request.cancel_request);
      else if ('progress_request' in request && request.progress_request != null) this.stream.requestProgress();
    } catch (error) {
      this.call.emit('error', toStatus(error, this.server.logger, 'Watch'));
      this.close();
    }
  }

  private create(request: pb.WatchCreateRequest): void {
    let watchId = invalidWatchId;
    let failure: string | undefined;
    try {
      watchId = this.stream.watch({
        key: request.key ?? Buffer.alloc(0),
        rangeEnd: request.range_end,
        startRevision: int64ToNumber(request.start_revision, 'start_revision'),
        prevKv: request.prev_kv === true,
        filters: request.filters ?? [],
        progressNotify: request.progress_notify === true,
        watchId: int64ToNumber(request.watch_id, 'watch_id'),
      });
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    // Written before any of the watch's events, which the stream hands out later.
    const response: pb.WatchResponse = { header: this.server.header(), watch_id: watchId, created: true, events: [] };
    if (failure !== undefined) {
      response.canceled = true;
      response.cancel_reason = failure;
    }
    this.call.write(response);
  }

  private cancel(request: pb.WatchCancelRequest): void {
    const watchId = int64ToNumber(request.watch_id, 'watch_id');
    if (!this.stream.cancel(watchId)) return;
    this.call.write({ header: this.server.header(), watch_id: watchId, canceled: true, events: [] });
  }

  private pump(): void {
    if (this.closed || this.waitingForDrain) return;
    for (let update = this.stream.next(); update !== undefined; update = this.stream.next()) {
      if (!this.call.write(this.toResponse(update))) {
        this.waitingForDrain = true;
        this.call.once('drain', () => {
          this.waitingForDrain = false;
          this.pump();
        });
        return;
      }
    }
  }

  private toResponse(update: WatchUpdate): pb.WatchResponse {
    const compacted = update.compactRevision > 0;
    return {
      header: this.server.header(update.revision),
      watch_id: update.watchId < 0 ? invalidWatchId : update.watchId,
      events: update.events,
      compact_revision: update.compactRevision,
      canceled: compacted,
    };
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.close();
  }
}
