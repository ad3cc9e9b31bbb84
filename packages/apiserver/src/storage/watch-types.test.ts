import type { StoredObject } from './codec';
import { WatchEventQueue } from './event-queue';
import { filterChange, type WatchEvent } from './watch-types';

interface Tagged extends StoredObject {
  tier: string;
}

const gold = (object: Tagged): boolean => object.tier === 'gold';
const object = (tier: string): Tagged => ({ tier, metadata: { resourceVersion: tier } });
const deleted = (previous: Tagged): Tagged => ({ ...previous, metadata: { resourceVersion: 'deleted' } });

describe('filterChange (upstream predicate semantics)', () => {
  it.each([
    ['create matching', 'gold', undefined, 'ADDED', 'gold'],
    ['create not matching', 'plain', undefined, undefined, undefined],
    ['update matching both', 'gold', 'gold', 'MODIFIED', 'gold'],
    ['update starts matching', 'gold', 'plain', 'ADDED', 'gold'],
    ['update stops matching', 'plain', 'gold', 'DELETED', 'deleted'],
    ['update never matching', 'plain', 'plain', undefined, undefined],
    ['delete matching', undefined, 'gold', 'DELETED', 'deleted'],
    ['delete not matching', undefined, 'plain', undefined, undefined],
  ])('%s', (_case, current, previous, type, resourceVersion) => {
    const event = filterChange(gold, current ? object(current) : undefined, previous ? object(previous) : undefined, deleted);
    expect(event?.type).toBe(type);
    expect(event?.object.metadata?.resourceVersion).toBe(resourceVersion);
  });
});

function resourceVersionOf(event: WatchEvent<Tagged>): string {
  return event.type === 'ERROR' ? 'ERROR' : String(event.object.metadata?.resourceVersion);
}

describe('WatchEventQueue', () => {
  const added = (tier: string): WatchEvent<Tagged> => ({ type: 'ADDED', object: object(tier) });

  it('delivers queued events in order, then ends when the capacity is exceeded', async () => {
    let ended = 0;
    const queue = new WatchEventQueue<Tagged>(2, () => ended++);
    expect([queue.push(added('a')), queue.push(added('b')), queue.push(added('c'))]).toEqual([true, true, false]);
    expect(queue.endReason).toMatch(/consumer too slow/);
    expect(ended).toBe(1);
    const seen: string[] = [];
    for await (const event of queue) seen.push(resourceVersionOf(event));
    expect(seen).toEqual(['a', 'b']);
  });

  it('wakes a waiting consumer and ends its loop on stop', async () => {
    const queue = new WatchEventQueue<Tagged>(5, () => undefined);
    const seen: string[] = [];
    const consumed = (async () => {
      for await (const event of queue) {
        seen.push(resourceVersionOf(event));
        if (seen.length === 2) queue.stop();
      }
    })();
    queue.push(added('x'));
    await new Promise((resolve) => setImmediate(resolve));
    queue.push(added('y'));
    queue.push(added('z'));
    await consumed;
    expect(seen).toEqual(['x', 'y']);
    expect(queue.endReason).toBe('stopped');
  });
});
