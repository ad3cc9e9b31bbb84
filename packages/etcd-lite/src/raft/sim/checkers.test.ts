import type { Entry, StateRole } from '../types';
import { checkLiveness, SafetyChecker, type ClusterView, type NodeView, type StateMachineEvent } from './checkers';

const text = new TextEncoder();

/** Entries from a compact spec: [term, value] pairs starting at `firstIndex`. */
function entries(firstIndex: number, spec: [number, string][]): Entry[] {
  return spec.map(([term, value], offset) => ({ term, index: firstIndex + offset, type: 'normal', data: text.encode(value) }));
}

interface NodeSpec {
  id: number;
  role?: StateRole;
  term?: number;
  log?: [number, string][];
  compactedIndex?: number;
  compactedTerm?: number;
  commit?: number;
  up?: boolean;
}

let version = 0;
function node(spec: NodeSpec): NodeView {
  const log = entries((spec.compactedIndex ?? 0) + 1, spec.log ?? []);
  const lastTerm = log.length > 0 ? (log[log.length - 1] as Entry).term : 0;
  const term = spec.term ?? lastTerm;
  return {
    id: spec.id,
    up: spec.up ?? true,
    role: spec.role ?? 'follower',
    term,
    log: {
      compactedIndex: spec.compactedIndex ?? 0,
      compactedTerm: spec.compactedTerm ?? 0,
      entries: log,
      term,
      commit: spec.commit ?? 0,
      version: version++,
    },
  };
}

function apply(nodeId: number, index: number, term: number, value: string): StateMachineEvent {
  return { kind: 'apply', nodeId, entry: entries(index, [[term, value]])[0] as Entry, value };
}

/** Feeds the steps in order; returns the violations of every step. */
function run(steps: ClusterView[]): string[] {
  const checker = new SafetyChecker();
  return steps.flatMap((step) => checker.check(step));
}

const goodLog: [number, string][] = [[1, 'a'], [1, 'b'], [2, 'c']];

describe('SafetyChecker', () => {
  it('accepts a consistent history', () => {
    const violations = run([
      { nodes: [node({ id: 1, role: 'leader', term: 2, log: goodLog, commit: 3 }), node({ id: 2, log: goodLog.slice(0, 2), commit: 2, term: 2 })], events: [] },
      {
        nodes: [node({ id: 1, role: 'leader', term: 2, log: goodLog, commit: 3 }), node({ id: 2, log: goodLog, commit: 3, term: 2 })],
        events: [apply(1, 1, 1, 'a'), apply(1, 2, 1, 'b'), apply(2, 1, 1, 'a'), { kind: 'readIndex', nodeId: 1, index: 3, minimumIndex: 3 }],
      },
      // Node 2 restarts from a snapshot at index 2 and applies index 3.
      {
        nodes: [node({ id: 1, role: 'leader', term: 3, log: [...goodLog, [3, 'd']], commit: 3 }), node({ id: 2, log: goodLog.slice(2), compactedIndex: 2, compactedTerm: 1, commit: 3, term: 2 })],
        events: [{ kind: 'restore', nodeId: 2, index: 2, items: [{ index: 1, term: 1, value: 'a' }, { index: 2, term: 1, value: 'b' }] }, apply(2, 3, 2, 'c')],
      },
    ]);
    expect(violations).toEqual([]);
  });

  const planted: { property: string; steps: ClusterView[]; expected: RegExp }[] = [
    {
      property: 'election safety',
      steps: [
        { nodes: [node({ id: 1, role: 'leader', term: 4 })], events: [] },
        { nodes: [node({ id: 1, role: 'follower', term: 4 }), node({ id: 2, role: 'leader', term: 4 })], events: [] },
      ],
      expected: /election safety: nodes 1 and 2 were both leader in term 4/,
    },
    {
      property: 'log matching (same index and term, different entry)',
      steps: [{ nodes: [node({ id: 1, log: [[1, 'a'], [1, 'b']] }), node({ id: 2, log: [[1, 'a'], [1, 'X']] })], events: [] }],
      expected: /log matching: node 2 persisted .*index 2/,
    },
    {
      property: 'log matching (same entry, different prefix)',
      steps: [{ nodes: [node({ id: 1, log: [[1, 'a'], [3, 'c']] }), node({ id: 2, log: [[2, 'b'], [3, 'c']] })], events: [] }],
      expected: /agree on index 2 \(term 3\) but differ at index 1/,
    },
    {
      property: 'log shape (decreasing terms)',
      steps: [{ nodes: [node({ id: 1, term: 3, log: [[3, 'a'], [2, 'b']] })], events: [] }],
      expected: /log term decreases at index 2/,
    },
    {
      property: 'leader completeness',
      steps: [
        { nodes: [node({ id: 1, role: 'leader', term: 1, log: [[1, 'a'], [1, 'b']], commit: 2 })], events: [] },
        { nodes: [node({ id: 1, term: 1, log: [[1, 'a'], [1, 'b']], commit: 2 }), node({ id: 2, role: 'leader', term: 2, log: [[1, 'a']] })], events: [] },
      ],
      expected: /leader completeness: node 2, leader of term 2, lacks the entry committed at index 2 by term 1/,
    },
    {
      property: 'state machine safety (two committed entries at one index)',
      steps: [
        { nodes: [node({ id: 1, log: [[1, 'a']], commit: 1, term: 1 })], events: [] },
        { nodes: [node({ id: 1, log: [[1, 'a']], commit: 1, term: 1 }), node({ id: 2, log: [[2, 'z']], commit: 1, term: 2 })], events: [] },
      ],
      expected: /state machine safety: index 1 is committed as/,
    },
    {
      property: 'state machine safety (two applied entries at one index)',
      steps: [{ nodes: [], events: [apply(1, 1, 1, 'a'), apply(2, 1, 1, 'b')] }],
      expected: /state machine safety: node 2 applied .*"b".* at index 1/,
    },
    {
      property: 'state machine safety (snapshot image disagrees)',
      steps: [{ nodes: [], events: [apply(1, 1, 1, 'a'), { kind: 'restore', nodeId: 2, index: 1, items: [{ index: 1, term: 1, value: 'q' }] }] }],
      expected: /node 2 restored value q at index 1 where another value was applied/,
    },
    {
      property: 'no value applied twice',
      steps: [{ nodes: [], events: [apply(1, 1, 1, 'a'), apply(1, 2, 1, 'a')] }],
      expected: /node 1: value a applied twice/,
    },
    {
      property: 'in-order application',
      steps: [{ nodes: [], events: [apply(1, 1, 1, 'a'), apply(1, 3, 1, 'c')] }],
      expected: /node 1: applied index 3 right after index 1/,
    },
    {
      property: 'linearizable ReadIndex',
      steps: [{ nodes: [], events: [{ kind: 'readIndex', nodeId: 3, index: 4, minimumIndex: 6 }] }],
      expected: /linearizability: node 3 answered a ReadIndex with index 4, below the commit index 6/,
    },
    {
      property: 'durable commit going back',
      steps: [
        { nodes: [node({ id: 1, log: goodLog, commit: 3, term: 2 })], events: [] },
        { nodes: [node({ id: 1, log: goodLog, commit: 2, term: 2 })], events: [] },
      ],
      expected: /durable commit index went back from 3 to 2/,
    },
  ];

  it.each(planted)('catches a planted violation of $property', ({ steps, expected }) => {
    const violations = run(steps);
    expect(violations.some((violation) => expected.test(violation))).toBe(true);
  });
});

describe('checkLiveness', () => {
  const stateMachines: Record<number, readonly string[] | undefined> = {
    1: ['a', 'b', 'c'],
    2: ['a', 'b'],
    3: ['a', 'a', 'b'],
    4: undefined,
  };
  const cases: { name: string; members: number[]; acknowledged: string[]; expected: RegExp[] }[] = [
    { name: 'all applied everywhere', members: [1], acknowledged: ['a', 'b', 'c'], expected: [] },
    { name: 'a member lagging behind', members: [1, 2], acknowledged: ['a', 'c'], expected: [/member 2 lacks 1 acknowledged value\(s\), first c/] },
    { name: 'a value applied twice', members: [3], acknowledged: ['a'], expected: [/member 3 applied a 2 times/] },
    { name: 'a member down', members: [4], acknowledged: [], expected: [/member 4 is not running/] },
    { name: 'no membership known', members: [], acknowledged: [], expected: [/no node knows the cluster membership/] },
  ];
  it.each(cases)('$name', ({ members, acknowledged, expected }) => {
    const violations = checkLiveness({ members, acknowledged, valuesOf: (id) => stateMachines[id] });
    expect(violations).toHaveLength(expected.length);
    expected.forEach((pattern, position) => expect(violations[position]).toMatch(pattern));
  });
});
