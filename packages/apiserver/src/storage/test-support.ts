// Shared by this folder's tests: a real one-member etcd and a reader that
// takes watch events with a deadline, so a missing event fails the test
// instead of hanging it.

import { type EtcdCluster, startEtcdCluster } from '@kube-lite/testing';
import type { StoredObject } from './codec';
import type { StorageWatch, WatchEvent } from './watch-types';

export interface TestObject extends StoredObject {
  metadata: { name: string; uid?: string; resourceVersion?: string; labels?: Record<string, string> };
  spec?: { value?: number; tier?: string };
}

/** A fresh etcd 3.4 with progress notifications every 300 ms (the default is 10 minutes). */
export function startTestEtcd(): Promise<EtcdCluster> {
  return startEtcdCluster({ implementation: 'etcd', members: 1, extraArgs: ['--experimental-watch-progress-notify-interval=300ms'] });
}

export async function compactEtcd(cluster: EtcdCluster, revision: number): Promise<void> {
  const result = await cluster.etcdctl(['compact', String(revision), '--physical']);
  if (result.code !== 0) throw new Error(`etcdctl compact ${revision} failed: ${result.stderr}`);
}

export function testObject(name: string, spec: TestObject['spec'] = {}, labels?: Record<string, string>): TestObject {
  return { metadata: { name, uid: `uid-${name}`, ...(labels ? { labels } : {}) }, spec };
}

export class WatchReader<T extends StoredObject> {
  private readonly iterator: AsyncIterator<WatchEvent<T>>;
  private pending: Promise<IteratorResult<WatchEvent<T>>> | undefined;

  constructor(readonly watch: StorageWatch<T>) {
    this.iterator = watch[Symbol.asyncIterator]();
  }

  /** The next event, 'end' when the watch ended, 'timeout' when none came in time. */
  async next(timeoutMs = 5000): Promise<WatchEvent<T> | 'end' | 'timeout'> {
    this.pending ??= this.iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([this.pending, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') return 'timeout';
    this.pending = undefined;
    return result.done ? 'end' : result.value;
  }

  /** Exactly count events (skipping BOOKMARKs unless asked); fails if they do not arrive in time. */
  async take(count: number, options: { timeoutMs?: number; keepBookmarks?: boolean } = {}): Promise<WatchEvent<T>[]> {
    const events: WatchEvent<T>[] = [];
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    while (events.length < count) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if (event === 'end' || event === 'timeout') {
        throw new Error(`watch gave ${event} after ${events.length} of ${count} events: ${JSON.stringify(events.map(describe))}`);
      }
      if (event.type === 'BOOKMARK' && !options.keepBookmarks) continue;
      events.push(event);
    }
    return events;
  }

  stop(): void {
    this.watch.stop();
  }
}

/** "TYPE name@rv" (or the error message), for readable assertions. */
export function describe(event: WatchEvent<StoredObject>): string {
  if (event.type === 'ERROR') return `ERROR ${event.object.code}: ${event.object.message}`;
  if (event.type === 'BOOKMARK') return `BOOKMARK @${event.object.metadata.resourceVersion}`;
  const metadata = event.object.metadata as { name?: string; resourceVersion?: string } | undefined;
  return `${event.type} ${metadata?.name ?? '?'}@${metadata?.resourceVersion ?? '?'}`;
}
