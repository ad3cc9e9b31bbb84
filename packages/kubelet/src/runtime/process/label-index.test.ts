import { LabelIndex } from './label-index';

describe('LabelIndex', () => {
  const key = 'pod-uid';
  const cases: { name: string; steps: (index: LabelIndex) => void; wanted: Record<string, string> | undefined; expected: string[] | undefined }[] = [
    { name: 'no label constraint means scan', steps: (index) => index.add('a', { [key]: 'p1' }), wanted: undefined, expected: undefined },
    { name: 'other labels only means scan', steps: (index) => index.add('a', { [key]: 'p1' }), wanted: { other: 'x' }, expected: undefined },
    { name: 'groups by value in insertion order', steps: (index) => ['a', 'b', 'c'].forEach((id, n) => index.add(id, { [key]: n === 1 ? 'p2' : 'p1' })), wanted: { [key]: 'p1' }, expected: ['a', 'c'] },
    { name: 'unknown value is empty', steps: (index) => index.add('a', { [key]: 'p1' }), wanted: { [key]: 'p9' }, expected: [] },
    { name: 'objects without the key are not indexed', steps: (index) => index.add('a', { other: 'p1' }), wanted: { [key]: 'p1' }, expected: [] },
    {
      name: 'delete removes only that id',
      steps: (index) => {
        index.add('a', { [key]: 'p1' });
        index.add('b', { [key]: 'p1' });
        index.delete('a', { [key]: 'p1' });
      },
      wanted: { [key]: 'p1' },
      expected: ['b'],
    },
  ];
  it.each(cases)('$name', ({ steps, wanted, expected }) => {
    const index = new LabelIndex(key);
    steps(index);
    expect(index.candidates(wanted)).toEqual(expected);
  });
});
