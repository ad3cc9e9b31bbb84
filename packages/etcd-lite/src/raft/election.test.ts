import { MemoryStorage } from './memory-storage';
import { RawNode } from './raw-node';
import { storageWithLog, testConfig, TestNetwork } from './test-network';
import { message, type Message, type NodeId } from './types';

function voteRequest(from: NodeId, to: NodeId, term: number, index: number, logTerm: number): Message {
  return message({ type: 'MsgVote', from, to, term, index, logTerm });
}

/** Drains one node's Readies (persisting them) and returns the messages it sent. */
function drain(node: RawNode, storage: MemoryStorage): Message[] {
  const sent: Message[] = [];
  while (node.hasReady()) {
    const ready = node.ready();
    if (ready.snapshot !== undefined) storage.applySnapshot(ready.snapshot);
    storage.append(ready.entries);
    if (ready.hardState !== undefined) storage.setHardState(ready.hardState);
    sent.push(...ready.messages);
    node.advance();
  }
  return sent;
}

describe('leader election', () => {
  test.each([
    { name: 'all nodes up', size: 3, down: [], leader: true },
    { name: 'one of three down', size: 3, down: [3], leader: true },
    { name: 'two of three down', size: 3, down: [2, 3], leader: false },
    { name: 'two of five down', size: 5, down: [4, 5], leader: true },
    { name: 'three of five down', size: 5, down: [3, 4, 5], leader: false },
  ])('§5.2 a candidate wins with a majority: $name', ({ size, down, leader }) => {
    const ids = Array.from({ length: size }, (_, i) => i + 1);
    const network = TestNetwork.bootstrapped(ids);
    for (const id of down) network.isolate(id);
    network.node(1).campaign();
    network.stabilize();
    const status = network.node(1).status();
    expect(status.softState.role).toBe(leader ? 'leader' : 'candidate');
    expect(status.hardState.term).toBe(2);
  });

  test('an election timeout elects exactly one leader, and everyone follows it', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3, 4, 5]);
    network.tick(40);
    const leaders = network.leaderIds();
    expect(leaders).toHaveLength(1);
    for (const id of [1, 2, 3, 4, 5]) expect(network.node(id).status().softState.leader).toBe(leaders[0]);
  });

  test.each([0, 0.25, 0.5, 0.999])(
    'the randomized election timeout lies in [electionTicks, 2*electionTicks) (random = %p)',
    (sample) => {
      const storage = storageWithLog([1, 2, 3], []);
      const node = new RawNode({ ...testConfig(1, storage, { random: () => sample }) });
      let ticks = 0;
      while (node.status().softState.role === 'follower' && ticks < 100) {
        node.tick();
        ticks++;
      }
      expect(ticks).toBe(10 + Math.floor(sample * 10));
    },
  );

  // Logs (terms from index 2) of voters 2 and 3; node 1's log is [1 2 2].
  test.each([
    { name: 'candidate log shorter in the same term', candidate: [1, 2], voter: [1, 2, 2], granted: false },
    { name: 'candidate last term older', candidate: [1, 1, 1, 1], voter: [1, 2], granted: false },
    { name: 'candidate log equal', candidate: [1, 2, 2], voter: [1, 2, 2], granted: true },
    { name: 'candidate log longer', candidate: [1, 2, 2, 2], voter: [1, 2, 2], granted: true },
    { name: 'candidate last term newer', candidate: [3], voter: [1, 2, 2], granted: true },
  ])('§5.4.1 election restriction: $name', ({ candidate, voter, granted }) => {
    const network = new TestNetwork();
    network.add(1, storageWithLog([1, 2, 3], candidate, { term: 3 }));
    network.add(2, storageWithLog([1, 2, 3], voter, { term: 3 }));
    network.add(3, storageWithLog([1, 2, 3], voter, { term: 3 }));
    network.node(1).campaign();
    network.stabilize();
    expect(network.node(1).status().softState.role).toBe(granted ? 'leader' : 'follower');
    const responses = network.delivered.filter((m) => m.type === 'MsgVoteResp');
    expect(responses.map((m) => m.reject)).toEqual([!granted, !granted]);
  });

  test.each([
    { name: 'same candidate again', votedFor: 2, candidate: 2, term: 5, granted: true },
    { name: 'another candidate, same term', votedFor: 2, candidate: 3, term: 5, granted: false },
    { name: 'another candidate, newer term', votedFor: 2, candidate: 3, term: 6, granted: true },
  ])('§5.2 a vote survives a restart: $name', ({ votedFor, candidate, term, granted }) => {
    const storage = storageWithLog([1, 2, 3], [], { term: 4 });
    const first = new RawNode(testConfig(1, storage));
    first.step(voteRequest(votedFor, 1, 5, 1, 1));
    const sentBefore = drain(first, storage);
    expect(sentBefore.map((m) => [m.type, m.reject])).toEqual([['MsgVoteResp', false]]);
    expect(storage.initialState().hardState).toMatchObject({ term: 5, vote: votedFor });

    const restarted = new RawNode(testConfig(1, storage));
    restarted.step(voteRequest(candidate, 1, term, 1, 1));
    const sent = drain(restarted, storage);
    expect(sent.map((m) => [m.type, m.to, m.reject])).toEqual([['MsgVoteResp', candidate, !granted]]);
  });

  test('persistence contract: a granted vote travels in a Ready whose hard state holds that vote', () => {
    const storage = storageWithLog([1, 2, 3], [], { term: 1 });
    const node = new RawNode(testConfig(1, storage));
    node.step(voteRequest(2, 1, 2, 1, 1));
    const ready = node.ready();
    const response = ready.messages.find((m) => m.type === 'MsgVoteResp');
    expect(response).toMatchObject({ to: 2, term: 2, reject: false });
    expect(ready.hardState).toEqual({ term: 2, vote: 2, commit: 1 });
    expect(ready.mustSync).toBe(true);
    node.advance();
    // Not repeated: the next Ready carries no hard state.
    node.step(voteRequest(2, 1, 2, 1, 1));
    expect(node.ready().hardState).toBeUndefined();
  });

  test('persistence contract: a candidate persists its own vote before asking for others', () => {
    const storage = storageWithLog([1, 2, 3], [], { term: 1 });
    const node = new RawNode(testConfig(1, storage));
    node.campaign();
    const ready = node.ready();
    expect(ready.hardState).toMatchObject({ term: 2, vote: 1 });
    expect(ready.messages.map((m) => [m.type, m.to, m.term])).toEqual([
      ['MsgVote', 2, 2],
      ['MsgVote', 3, 2],
    ]);
  });

  test('a node at a higher term makes a leader step down (§5.1)', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.node(1).step(message({ type: 'MsgApp', from: 2, to: 1, term: 9 }));
    expect(network.node(1).status().softState).toEqual({ role: 'follower', leader: 2 });
    expect(network.node(1).status().hardState.term).toBe(9);
  });

  test('messages of an older term are ignored', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.node(2).campaign(); // term 3, node 2 leads
    network.stabilize();
    const before = network.node(3).status();
    network.node(3).step(message({ type: 'MsgApp', from: 1, to: 3, term: 2, index: 99, logTerm: 2, commit: 99 }));
    expect(network.node(3).status()).toEqual(before);
  });
});

describe('PreVote and CheckQuorum', () => {
  test.each([
    { name: 'with PreVote', preVote: true, disrupted: false },
    { name: 'without PreVote', preVote: false, disrupted: true },
  ])('a partitioned node rejoining $name', ({ preVote, disrupted }) => {
    const network = TestNetwork.bootstrapped([1, 2, 3], { preVote }, 1);
    network.propose(1, 'before');
    const termBefore = network.node(1).status().hardState.term;
    network.isolate(3);
    network.tick(50, [3]);
    // Node 3 keeps campaigning alone; a pre-candidate never bumps its term.
    expect(network.node(3).status().hardState.term > termBefore).toBe(!preVote);
    network.heal();
    network.tick(20);
    const leader = network.node(1).status();
    expect(leader.softState.role === 'leader' && leader.hardState.term === termBefore).toBe(!disrupted);
    expect(network.leaderIds()).toHaveLength(1);
  });

  test('nodes that heard from a leader recently refuse a pre-vote', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], { preVote: true }, 1);
    const term = network.node(1).status().hardState.term;
    const mark = network.delivered.length;
    network.node(3).campaign();
    network.stabilize();
    // The pre-vote requests go unanswered; nobody's term moves.
    expect(network.delivered.slice(mark).filter((m) => m.type === 'MsgPreVoteResp')).toEqual([]);
    expect(network.node(1).status().softState.role).toBe('leader');
    for (const id of [1, 2, 3]) expect(network.node(id).status().hardState.term).toBe(term);
    // The next heartbeat brings the pre-candidate back.
    network.tick(1, [1]);
    expect(network.node(3).status().softState).toEqual({ role: 'follower', leader: 1 });
  });

  test('a leader with CheckQuorum steps down when it stops hearing from a quorum', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], { checkQuorum: true }, 1);
    network.tick(5);
    expect(network.node(1).status().softState.role).toBe('leader');
    network.isolate(1);
    network.tick(21, [1]);
    expect(network.node(1).status().softState).toEqual({ role: 'follower', leader: 0 });
  });

  test('a leader without CheckQuorum stays leader when isolated', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], { checkQuorum: false }, 1);
    network.isolate(1);
    network.tick(30, [1]);
    expect(network.node(1).status().softState.role).toBe('leader');
  });

  test('a pre-candidate that loses the pre-vote stays at its term and can later win', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], { preVote: true, checkQuorum: true }, 1);
    network.isolate(1); // the leader dies
    network.tick(25, [2, 3]);
    const leaders = network.leaderIds().filter((id) => id !== 1);
    expect(leaders).toHaveLength(1);
    expect(network.node(leaders[0]!).status().hardState.term).toBe(3);
  });
});
