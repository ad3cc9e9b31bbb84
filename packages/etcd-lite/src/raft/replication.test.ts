import { ProposalDroppedError } from './types';
import { bytes, storageWithLog, TestNetwork } from './test-network';
import { message, type Message } from './types';

const isAppendTo = (to: number) => (m: Message) => m.type === 'MsgApp' && m.to === to;

describe('log replication', () => {
  // Figure 7 of the Raft paper: the leader's log at term 8 and followers (a)-(f),
  // as terms of indexes 1..; index 1 is the shared snapshot (term 1).
  const leaderLog = [1, 1, 4, 4, 5, 5, 6, 6, 6];
  test.each([
    { name: '(a) missing one entry', follower: [1, 1, 4, 4, 5, 5, 6, 6] },
    { name: '(b) missing many entries', follower: [1, 1, 4] },
    { name: '(c) one extra entry', follower: [1, 1, 4, 4, 5, 5, 6, 6, 6, 6] },
    { name: '(d) extra entries of a later term', follower: [1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7] },
    { name: '(e) missing and extra entries', follower: [1, 1, 4, 4, 4, 4] },
    { name: '(f) extra entries of old terms', follower: [1, 1, 2, 2, 2, 3, 3, 3, 3, 3] },
  ])('§5.3 figure 7: follower $name converges to the leader', ({ follower }) => {
    const network = new TestNetwork();
    network.add(1, storageWithLog([1, 2, 3], leaderLog, { term: 8 }));
    network.add(2, storageWithLog([1, 2, 3], follower, { term: 7 }));
    network.add(3, storageWithLog([1, 2, 3], [], { term: 7 }));
    // Node 3 only votes; it never sees the log.
    network.dropFilters.push((m) => m.to === 3 || m.from === 3);
    network.node(1).campaign();
    network.stabilize();
    network.node(1).step(message({ type: 'MsgVoteResp', from: 3, to: 1, term: 9 }));
    network.stabilize();
    expect(network.node(1).status().softState.role).toBe('leader');
    network.propose(1, 'x');
    expect(network.logTerms(2)).toEqual(network.logTerms(1));
    expect(network.logTerms(1)).toEqual([...leaderLog, 9, 9]);
    expect(network.node(2).status().hardState.commit).toBe(network.node(1).status().hardState.commit);
  });

  test('§5.4.2 figure 8: entries of an earlier term commit only with an entry of the current term', () => {
    const network = new TestNetwork();
    // All three hold an uncommitted entry of term 2 at index 2.
    for (const id of [1, 2, 3]) network.add(id, storageWithLog([1, 2, 3], [2], { term: 2, commit: 1 }));
    network.dropFilters.push((m) => m.type === 'MsgApp');
    network.elect(1); // term 3; appends its empty entry at index 3
    expect(network.node(1).status().lastIndex).toBe(3);
    // Node 2 acknowledges index 2: a majority holds it, but its term is 2.
    network.node(1).step(message({ type: 'MsgAppResp', from: 2, to: 1, term: 3, index: 2 }));
    expect(network.node(1).status().hardState.commit).toBe(1);
    // Acknowledging the term-3 entry commits it and, with it, index 2.
    network.node(1).step(message({ type: 'MsgAppResp', from: 2, to: 1, term: 3, index: 3 }));
    expect(network.node(1).status().hardState.commit).toBe(3);
  });

  test.each([
    {
      name: 'follower with a long diverging tail of one old term',
      leader: Array.from({ length: 50 }, () => 3),
      follower: Array.from({ length: 60 }, () => 2),
      maxRejections: 1,
    },
    {
      name: 'follower with a diverging tail of several old terms',
      leader: [...Array.from({ length: 30 }, () => 2), ...Array.from({ length: 30 }, () => 5)],
      follower: [...Array.from({ length: 30 }, () => 2), ...Array.from({ length: 10 }, () => 3), ...Array.from({ length: 10 }, () => 4)],
      maxRejections: 2,
    },
    {
      name: 'follower far behind',
      leader: Array.from({ length: 100 }, () => 2),
      follower: [2],
      maxRejections: 1,
    },
  ])('fast backtracking: $name', ({ leader, follower, maxRejections }) => {
    const network = new TestNetwork();
    network.add(1, storageWithLog([1, 2, 3], leader, { term: 5 }));
    network.add(2, storageWithLog([1, 2, 3], follower, { term: 5 }));
    network.add(3, storageWithLog([1, 2, 3], leader, { term: 5 }));
    network.elect(1);
    const rejections = network.delivered.filter((m) => m.type === 'MsgAppResp' && m.from === 2 && m.reject);
    expect(rejections.length).toBeLessThanOrEqual(maxRejections);
    expect(rejections.length).toBeGreaterThan(0);
    // Without hints one rejection per diverging index would be needed.
    expect(network.delivered.filter(isAppendTo(2)).length).toBeLessThanOrEqual(maxRejections + 2);
    expect(network.logTerms(2)).toEqual(network.logTerms(1));
  });

  test.each([
    { name: 'count bound', maxInflightMessages: 3, maxInflightBytes: 0, expected: 3 },
    { name: 'byte bound', maxInflightMessages: 100, maxInflightBytes: 25, expected: 3 },
  ])('replicate state keeps at most the in-flight window unacknowledged: $name', ({ maxInflightMessages, maxInflightBytes, expected }) => {
    const network = TestNetwork.bootstrapped([1, 2, 3], { maxInflightMessages, maxInflightBytes, maxSizePerMessageBytes: 10 }, 1);
    network.propose(1, 'warm-up'); // puts every follower in replicate state
    expect(network.node(1).status().progress.get(2)?.state).toBe('replicate');
    // Node 2's acknowledgements are lost from now on.
    network.dropFilters.push((m) => m.from === 2);
    const mark = network.delivered.length;
    for (let i = 0; i < 10; i++) network.propose(1, `entry-${i}`.padEnd(10, '.'));
    // Empty appends (commit updates) carry no entries and take no room in the window.
    const unacknowledged = network.delivered.slice(mark).filter((m) => isAppendTo(2)(m) && m.entries.length > 0);
    expect(unacknowledged).toHaveLength(expected);
    // Node 3 kept up: everything committed.
    expect(network.member(3).appliedData).toHaveLength(11);
    // Once acknowledgements flow again the window drains and node 2 catches up.
    network.heal();
    network.tick(2);
    expect(network.member(2).appliedData).toEqual(network.member(1).appliedData);
  });

  test('probe state sends one message per heartbeat until the follower answers', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], { heartbeatTicks: 2 }, 1);
    network.node(1).reportUnreachable(2); // back to probe
    expect(network.node(1).status().progress.get(2)?.state).toBe('probe');
    network.dropFilters.push((m) => m.from === 2);
    const mark = network.delivered.length;
    for (let i = 0; i < 5; i++) network.propose(1, `p${i}`);
    const withEntries = (m: Message) => isAppendTo(2)(m) && m.entries.length > 0;
    expect(network.delivered.slice(mark).filter(withEntries)).toHaveLength(1);
    network.tick(4, [1]); // two heartbeats, answers still lost
    expect(network.delivered.slice(mark).filter(withEntries)).toHaveLength(1);
    network.heal();
    network.tick(2, [1]);
    expect(network.node(1).status().progress.get(2)?.state).toBe('replicate');
    expect(network.member(2).appliedData).toEqual(network.member(1).appliedData);
  });

  test('a MsgApp carries at most maxSizePerMessageBytes of entries (at least one)', () => {
    const network = TestNetwork.bootstrapped([1, 2], { maxSizePerMessageBytes: 25 }, 1);
    network.isolate(2);
    for (let i = 0; i < 6; i++) network.node(1).propose(bytes('0123456789'));
    network.node(1).propose(bytes('x'.repeat(40)));
    network.stabilize();
    network.heal();
    network.tick(1, [1]);
    const sizes = network.delivered
      .filter((m) => m.type === 'MsgApp' && m.to === 2 && m.entries.length > 0)
      .map((m) => m.entries.reduce((total, e) => total + e.data.byteLength, 0));
    for (const size of sizes) expect(size === 40 || size <= 25).toBe(true);
    expect(network.member(2).appliedData).toHaveLength(7);
  });

  test('heartbeats never carry a commit index beyond the follower match', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.dropFilters.push((m) => m.type === 'MsgApp' && m.to === 3);
    network.propose(1, 'a');
    network.tick(1, [1]);
    const match = network.node(1).status().progress.get(3)!.match;
    const heartbeats = network.delivered.filter((m) => m.type === 'MsgHeartbeat' && m.to === 3);
    expect(heartbeats.length).toBeGreaterThan(0);
    for (const heartbeat of heartbeats) expect(heartbeat.commit).toBeLessThanOrEqual(match);
    expect(network.node(1).status().hardState.commit).toBeGreaterThan(match);
  });

  test('followers forward proposals to the leader', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.propose(3, 'from-follower');
    for (const id of [1, 2, 3]) expect(network.member(id).appliedData).toEqual(['from-follower']);
    expect(network.delivered.some((m) => m.type === 'MsgProp' && m.from === 3 && m.to === 1)).toBe(true);
  });

  test.each([
    { name: 'no leader known', setup: (n: TestNetwork) => n, proposer: 2, reason: /no leader/ },
    {
      name: 'an election in progress',
      setup: (n: TestNetwork) => {
        n.isolate(2);
        n.node(2).campaign();
        n.stabilize();
        return n;
      },
      proposer: 2,
      reason: /no leader/,
    },
  ])('a proposal is dropped with $name', ({ setup, proposer, reason }) => {
    const network = setup(TestNetwork.bootstrapped([1, 2, 3]));
    expect(() => network.node(proposer).propose(bytes('x'))).toThrow(ProposalDroppedError);
    expect(() => network.node(proposer).propose(bytes('x'))).toThrow(reason);
  });

  test('the uncommitted-bytes bound drops proposals until entries commit', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], { maxUncommittedEntriesBytes: 20 }, 1);
    network.isolate(2);
    network.isolate(3);
    network.node(1).propose(bytes('0123456789'));
    network.node(1).propose(bytes('0123456789'));
    expect(() => network.node(1).propose(bytes('0123456789'))).toThrow(/maxUncommittedEntriesBytes/);
    network.stabilize();
    network.heal();
    network.tick(2, [1]);
    expect(network.member(1).appliedData).toHaveLength(2);
    network.propose(1, 'accepted again');
    expect(network.member(1).appliedData).toHaveLength(3);
  });

  test('a restarted node re-applies committed entries above its applied index', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.propose(1, 'a');
    network.propose(1, 'b');
    const member = network.member(2);
    member.appliedData = ['a'];
    member.appliedIndex -= 1;
    network.restart(2);
    network.stabilize();
    expect(network.member(2).appliedData).toEqual(['a', 'b']);
  });
});
