import { RingBuffer } from './ring-buffer';

describe('RingBuffer', () => {
  it('keeps the newest entries addressed by absolute sequence numbers', () => {
    const buffer = new RingBuffer<number>(3);
    const evicted = [10, 11, 12, 13, 14].map((value) => buffer.push(value));
    expect(evicted).toEqual([undefined, undefined, undefined, 10, 11]);
    expect([buffer.startSequence, buffer.endSequence, buffer.size]).toEqual([2, 5, 3]);
    expect([1, 2, 3, 4, 5].map((sequence) => buffer.at(sequence))).toEqual([undefined, 12, 13, 14, undefined]);
    expect(buffer.first()).toBe(12);
  });

  it.each([
    [11, 2],
    [12, 3],
    [13, 4],
    [14, 5],
  ])('findFirst(value > %d) is sequence %d', (after, expected) => {
    const buffer = new RingBuffer<number>(3);
    for (const value of [10, 11, 12, 13, 14]) buffer.push(value);
    expect(buffer.findFirst((value) => value > after)).toBe(expected);
  });

  it('rejects a capacity below one', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
});
