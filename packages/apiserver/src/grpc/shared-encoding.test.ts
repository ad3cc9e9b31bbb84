import { encodeSharedJson } from './shared-encoding';

describe('encodeSharedJson', () => {
  const cases: { name: string; make: () => unknown; sameBytesTwice: boolean }[] = [
    { name: 'a frozen object is encoded once', make: () => Object.freeze({ metadata: Object.freeze({ name: 'a' }) }), sameBytesTwice: true },
    { name: 'an unfrozen object is encoded each time', make: () => ({ metadata: { name: 'a' } }), sameBytesTwice: false },
    { name: 'a frozen array is encoded once', make: () => Object.freeze([1, 2]), sameBytesTwice: true },
    { name: 'a string is encoded each time', make: () => 'text', sameBytesTwice: false },
    { name: 'null is encoded each time', make: () => null, sameBytesTwice: false },
  ];

  test.each(cases)('$name', ({ make, sameBytesTwice }) => {
    const value = make();
    const first = encodeSharedJson(value);
    const second = encodeSharedJson(value);
    expect(first.toString('utf8')).toBe(JSON.stringify(value));
    expect(second.equals(first)).toBe(true);
    expect(second === first).toBe(sameBytesTwice);
  });

  test('an unfrozen object changed between calls is encoded as it is now', () => {
    const value: { n: number } = { n: 1 };
    encodeSharedJson(value);
    value.n = 2;
    expect(JSON.parse(encodeSharedJson(value).toString('utf8'))).toEqual({ n: 2 });
  });
});
