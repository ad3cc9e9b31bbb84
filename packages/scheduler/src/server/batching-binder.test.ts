// BatchingPodBinder against a client whose calls the test completes by hand:
// which binds leave alone, which wait and leave together, the bounds, and
// that one failed bind fails only its own pod.
import type { Pod } from '@kube-lite/api';
import { ApiError, conflictError, notFoundError, type ApiClient, type BindItem } from '@kube-lite/client';
import { isBindConflict } from '../scheduler';
import { BatchingPodBinder } from './batching-binder';

interface PendingCall {
  /** Pod names, in order. */
  names: string[];
  kind: 'bind' | 'bindMany';
  answer(results?: (ApiError | undefined)[]): void;
  fail(error: unknown): void;
}

class ManualClient implements Pick<ApiClient, 'bind' | 'bindMany'> {
  readonly calls: PendingCall[] = [];

  bind(_namespace: string, podName: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.calls.push({ names: [podName], kind: 'bind', answer: (results) => (results?.[0] === undefined ? resolve() : reject(results[0])), fail: reject });
    });
  }

  bindMany(items: readonly BindItem[]): Promise<(ApiError | undefined)[]> {
    return new Promise((resolve, reject) => {
      this.calls.push({ names: items.map((item) => item.podName), kind: 'bindMany', answer: (results) => resolve(results ?? items.map(() => undefined)), fail: reject });
    });
  }

  /** The call the test completes next. */
  call(index: number): PendingCall {
    const call = this.calls[index];
    if (call === undefined) throw new Error(`no call ${index} (${this.calls.length} made)`);
    return call;
  }
}

function pod(name: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}` }, spec: { containers: [] } };
}

/** Settles each promise into "ok" or the error's code, without unhandled rejections. */
function outcomes(promises: Promise<void>[]): Promise<string[]> {
  return Promise.all(promises.map((promise) => promise.then(() => 'ok', (error: unknown) => String((error as { code?: unknown }).code ?? error))));
}

const flushPromises = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('BatchingPodBinder', () => {
  it('sends a bind at once, alone, while calls are free: no waiting when binds are rare', async () => {
    const client = new ManualClient();
    const binder = new BatchingPodBinder(client, { maxInFlightCalls: 2 });
    const first = binder.bind(pod('a'), 'node-1');
    expect(client.calls.map((call) => [call.kind, call.names])).toEqual([['bind', ['a']]]);
    client.call(0).answer();
    await first;
    const second = binder.bind(pod('b'), 'node-2');
    expect(client.calls.map((call) => call.kind)).toEqual(['bind', 'bind']);
    client.call(1).answer();
    await second;
  });

  it('holds binds while every call is out, then sends them together in order, bounded by maxBatchSize', async () => {
    const client = new ManualClient();
    const binder = new BatchingPodBinder(client, { maxInFlightCalls: 1, maxBatchSize: 3 });
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const binds = names.map((name) => binder.bind(pod(name), 'node-1'));
    expect(client.calls.map((call) => call.names)).toEqual([['a']]);
    expect(binder.waitingCount).toBe(5);
    client.call(0).answer();
    await flushPromises();
    expect(client.calls.map((call) => [call.kind, call.names])).toEqual([
      ['bind', ['a']],
      ['bindMany', ['b', 'c', 'd']],
    ]);
    client.call(1).answer();
    await flushPromises();
    expect(client.calls[2]?.names).toEqual(['e', 'f']);
    client.call(2).answer();
    expect(await outcomes(binds)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(binder.waitingCount).toBe(0);
  });

  it('never has more than maxInFlightCalls calls out', async () => {
    const client = new ManualClient();
    const binder = new BatchingPodBinder(client, { maxInFlightCalls: 3, maxBatchSize: 2 });
    const binds = Array.from({ length: 20 }, (_, index) => binder.bind(pod(`p${index}`), 'node-1'));
    let answered = 0;
    for (let round = 0; round < 20 && answered < client.calls.length + 1; round += 1) {
      const open = client.calls.length - answered;
      expect(open).toBeLessThanOrEqual(3);
      if (open === 0) break;
      client.call(answered).answer();
      answered += 1;
      await flushPromises();
    }
    expect(await outcomes(binds)).toEqual(Array.from({ length: 20 }, () => 'ok'));
    expect(client.calls.flatMap((call) => call.names)).toEqual(Array.from({ length: 20 }, (_, index) => `p${index}`));
    expect(Math.max(...client.calls.map((call) => call.names.length))).toBe(2);
  });

  it('fails only the binds that failed, with errors the scheduler reads as conflicts', async () => {
    const client = new ManualClient();
    const binder = new BatchingPodBinder(client, { maxInFlightCalls: 1 });
    const binds = ['a', 'bound', 'gone', 'd'].map((name) => binder.bind(pod(name), 'node-1'));
    client.call(0).answer();
    await flushPromises();
    const alreadyBound = conflictError('', 'pods', 'bound', 'pod bound is already assigned to node "node-0"');
    const deleted = notFoundError('', 'pods', 'gone');
    client.call(1).answer([alreadyBound, deleted, undefined]);
    expect(await outcomes(binds)).toEqual(['ok', '409', '404', 'ok']);
    expect(await binds[1]?.catch((error: unknown) => isBindConflict(error))).toBe(true);
    expect(await binds[2]?.catch((error: unknown) => isBindConflict(error))).toBe(true);
  });

  it('fails every bind of a call that failed as a whole, and keeps going', async () => {
    const client = new ManualClient();
    const binder = new BatchingPodBinder(client, { maxInFlightCalls: 1 });
    const binds = ['a', 'b', 'c'].map((name) => binder.bind(pod(name), 'node-1'));
    client.call(0).answer();
    await flushPromises();
    client.call(1).fail(new ApiError(503, 'ServiceUnavailable', 'connection refused'));
    expect(await outcomes(binds)).toEqual(['ok', '503', '503']);
    const later = binder.bind(pod('e'), 'node-1');
    client.call(2).answer();
    await later;
  });

  it('sends the Binding upstream sends: the pod\'s name, namespace and uid, and the node as target', async () => {
    let seen: BindItem[] = [];
    const binder = new BatchingPodBinder({
      bind: async (namespace, podName, binding) => void (seen = [{ namespace, podName, binding }]),
      bindMany: async () => [],
    });
    await binder.bind(pod('a'), 'node-7');
    expect(seen).toEqual([
      {
        namespace: 'default',
        podName: 'a',
        binding: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'a', namespace: 'default', uid: 'uid-a' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-7' } },
      },
    ]);
  });
});
