// The scheduler's PodBinder over the API client, sending binds in batches.
// Each gRPC call costs the API server (and us) far more than the bind inside
// it, and while streaming the scheduler has several binds ready within one
// call's round trip. So: while fewer than maxInFlightCalls calls are out, a
// bind leaves at once on its own (no added latency when binds are rare); when
// all are out, binds wait, and the next free call carries every waiting bind
// (up to maxBatchSize) in one BindMany. Each bind still succeeds or fails on
// its own: a conflict (already bound, deleted) rejects only that pod's promise.
import type { Pod } from '@kube-lite/api';
import { ApiError, type ApiClient, type BindItem } from '@kube-lite/client';
import type { PodBinder } from '../framework';

export interface BatchingBinderOptions {
  /** Most binds one BindMany call carries; default 64. 1 turns batching off (one Bind call per pod). */
  maxBatchSize?: number;
  /** Bind calls (Bind or BindMany) in flight at once before binds start to wait for a batch; default 4. */
  maxInFlightCalls?: number;
}

interface WaitingBind {
  item: BindItem;
  resolve(): void;
  reject(error: unknown): void;
}

export const DEFAULT_MAX_BIND_BATCH_SIZE = 64;
export const DEFAULT_MAX_IN_FLIGHT_BIND_CALLS = 4;

/**
 * A PodBinder that coalesces binds. Its queue holds at most the binds its caller has in flight (the scheduling
 * core bounds those with maxInFlightBinds).
 */
export class BatchingPodBinder implements PodBinder {
  private readonly maxBatchSize: number;
  private readonly maxInFlightCalls: number;
  private readonly waiting: WaitingBind[] = [];
  private inFlightCalls = 0;

  constructor(
    private readonly client: Pick<ApiClient, 'bind' | 'bindMany'>,
    options: BatchingBinderOptions = {},
  ) {
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? DEFAULT_MAX_BIND_BATCH_SIZE);
    this.maxInFlightCalls = Math.max(1, options.maxInFlightCalls ?? DEFAULT_MAX_IN_FLIGHT_BIND_CALLS);
  }

  bind(pod: Pod, nodeName: string): Promise<void> {
    const namespace = pod.metadata?.namespace ?? '';
    const podName = pod.metadata?.name ?? '';
    const item: BindItem = {
      namespace,
      podName,
      binding: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: podName, namespace, uid: pod.metadata?.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      },
    };
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.sendWaiting();
    });
  }

  /** Binds waiting for a free call. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  private sendWaiting(): void {
    while (this.inFlightCalls < this.maxInFlightCalls && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.maxBatchSize);
      this.inFlightCalls += 1;
      void this.send(batch).finally(() => {
        this.inFlightCalls -= 1;
        this.sendWaiting();
      });
    }
  }

  private async send(batch: WaitingBind[]): Promise<void> {
    const only = batch.length === 1 ? batch[0] : undefined;
    if (only !== undefined) {
      try {
        await this.client.bind(only.item.namespace, only.item.podName, only.item.binding);
        only.resolve();
      } catch (error) {
        only.reject(error);
      }
      return;
    }
    let results: (ApiError | undefined)[];
    try {
      results = await this.client.bindMany(batch.map((waiting) => waiting.item));
    } catch (error) {
      // The whole call failed (server unreachable, timeout): every bind in it failed the same way.
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    batch.forEach((waiting, index) => {
      const error = index < results.length ? results[index] : new ApiError(500, 'InternalError', `bindMany answered ${results.length} results for ${batch.length} binds`);
      if (error === undefined) waiting.resolve();
      else waiting.reject(error);
    });
  }
}
