import { RaftUsageError, ReadIndexDroppedError } from './errors';
import { MemoryStorage } from './memory-storage';
import { RawNode } from './raw-node';
import { bytes, testConfig, TestNetwork } from './test-network';
import { EMPTY_BYTES, message, ProposalDroppedError, type ConfChange, type NodeId } from './types';

/** Takes a snapshot of everything `id` applied and compacts its log up to there. */
function snapshotAndCompact(network: TestNetwork, id: NodeId): number {
  const member = network.member(id);
  const data = bytes(JSON.stringify(member.appliedData));
  member.storage.createSnapshot(member.appliedIndex, member.confState, data);
  member.storage.compact(member.appliedIndex);
  return member.appliedIndex;
}

function change(type: ConfChange['type'], nodeId: NodeId): ConfChange {
  return { type, nodeId, context: EMPTY_BYTES };
}

describe('snapshots', () => {
  test('a follower that needs compacted entries is sent the snapshot and catches up from it', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.isolate(3);
    for (let i = 0; i < 5; i++) network.propose(1, `v${i}`);
    const snapshotIndex = snapshotAndCompact(network, 1);
    network.propose(1, 'after-snapshot');
    network.heal();
    network.tick(2, [1]);
    const snapshots = network.delivered.filter((m) => m.type === 'MsgSnap' && m.to === 3);
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0]!.snapshot?.metadata.index).toBe(snapshotIndex);
    const follower = network.member(3);
    expect(follower.readies.some((ready) => ready.snapshot?.metadata.index === snapshotIndex)).toBe(true);
    expect(follower.appliedData).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'after-snapshot']);
    expect(follower.confState).toEqual({ voters: [1, 2, 3], learners: [] });
    expect(follower.storage.firstIndex()).toBe(snapshotIndex + 1);
    // The leader resumed normal replication.
    network.node(1).reportSnapshot(3, false);
    network.propose(1, 'later');
    expect(network.node(1).status().progress.get(3)?.state).toBe('replicate');
    expect(follower.appliedData.at(-1)).toBe('later');
  });

  test.each([
    { name: 'delivered', failed: false },
    { name: 'failed', failed: true },
  ])('reportSnapshot ($name) moves the progress back to probe', ({ failed }) => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.isolate(3);
    network.propose(1, 'a');
    snapshotAndCompact(network, 1);
    network.heal();
    network.dropFilters.push((m) => m.type === 'MsgSnap');
    network.tick(1, [1]);
    expect(network.node(1).status().progress.get(3)?.state).toBe('snapshot');
    network.node(1).reportSnapshot(3, failed);
    expect(network.node(1).status().progress.get(3)?.state).toBe('probe');
  });

  test('a restarted node resumes from its snapshot and log', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    for (let i = 0; i < 3; i++) network.propose(1, `v${i}`);
    snapshotAndCompact(network, 2);
    network.propose(1, 'v3');
    const restarted = network.restart(2);
    expect(restarted.node.status().confState).toEqual({ voters: [1, 2, 3], learners: [] });
    network.propose(1, 'v4');
    expect(network.member(2).appliedData).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });
});

describe('leadership transfer', () => {
  test('to an up-to-date follower', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], { preVote: true, checkQuorum: true }, 1);
    network.node(1).transferLeadership(2);
    network.stabilize();
    expect(network.leaderIds()).toEqual([2]);
    expect(network.delivered.some((m) => m.type === 'MsgTimeoutNow' && m.to === 2)).toBe(true);
    network.propose(3, 'after transfer');
    expect(network.member(1).appliedData).toEqual(['after transfer']);
  });

  test('to a lagging follower: it first catches up', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.isolate(3);
    network.propose(1, 'a');
    network.heal();
    network.dropFilters.push((m) => m.type === 'MsgApp' && m.to === 3);
    network.node(1).transferLeadership(3);
    network.stabilize();
    expect(network.node(1).status().leadTransferee).toBe(3);
    expect(() => network.node(1).propose(bytes('x'))).toThrow(ProposalDroppedError);
    network.heal();
    network.tick(1, [1]);
    expect(network.leaderIds()).toEqual([3]);
  });

  test('requested on the transferee itself, it is forwarded to the leader', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.node(3).transferLeadership(3);
    network.stabilize();
    expect(network.leaderIds()).toEqual([3]);
  });

  test('is abandoned after an election timeout, and proposals flow again', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.isolate(3);
    network.node(1).transferLeadership(3);
    network.stabilize();
    expect(() => network.node(1).propose(bytes('x'))).toThrow(/transfer/);
    network.tick(10, [1]);
    expect(network.node(1).status().leadTransferee).toBe(0);
    network.propose(1, 'x');
    expect(network.member(2).appliedData).toEqual(['x']);
  });

  test('to a learner is ignored', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.add(4);
    network.node(1).proposeConfChange(change('addLearner', 4));
    network.stabilize();
    network.node(1).transferLeadership(4);
    expect(network.node(1).status().leadTransferee).toBe(0);
  });
});

describe('ReadIndex', () => {
  const context = (text: string) => bytes(text);

  test.each([
    { name: 'on the leader', reader: 1 },
    { name: 'on a follower', reader: 3 },
  ])('$name: a ReadState at the commit index after a heartbeat round', ({ reader }) => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.propose(1, 'a');
    const commit = network.node(1).status().hardState.commit;
    network.node(reader).readIndex(context('read-1'));
    network.stabilize();
    expect(network.member(reader).readStates).toEqual([{ index: commit, requestContext: context('read-1') }]);
    const heartbeats = network.delivered.filter((m) => m.type === 'MsgHeartbeat' && m.context.byteLength > 0);
    expect(heartbeats.length).toBeGreaterThan(0);
  });

  test('without a quorum of heartbeat answers no ReadState appears', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.isolate(2);
    network.isolate(3);
    network.node(1).readIndex(context('read'));
    network.tick(3, [1]);
    expect(network.member(1).readStates).toEqual([]);
    network.heal();
    network.tick(1, [1]);
    expect(network.member(1).readStates.map((state) => state.requestContext)).toEqual([context('read')]);
  });

  test('a single voter answers at once', () => {
    const network = TestNetwork.bootstrapped([1], {}, 1);
    network.propose(1, 'a');
    network.node(1).readIndex(context('solo'));
    const ready = network.node(1).ready();
    expect(ready.readStates).toEqual([{ index: network.node(1).status().hardState.commit, requestContext: context('solo') }]);
    expect(ready.messages).toEqual([]);
  });

  test('waits until the new leader commits an entry of its term', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3]);
    network.dropFilters.push((m) => m.type === 'MsgAppResp');
    network.elect(1);
    network.node(1).readIndex(context('early'));
    network.stabilize();
    expect(network.member(1).readStates).toEqual([]);
    network.heal();
    network.tick(2, [1]);
    const commit = network.node(1).status().hardState.commit;
    expect(network.member(1).readStates).toEqual([{ index: commit, requestContext: context('early') }]);
  });

  test.each([
    { name: 'no leader', setup: () => TestNetwork.bootstrapped([1, 2, 3]), reader: 2, error: ReadIndexDroppedError },
    { name: 'an empty context', setup: () => TestNetwork.bootstrapped([1, 2, 3], {}, 1), reader: 1, error: RaftUsageError },
  ])('is refused with $name', ({ setup, reader, error }) => {
    const network = setup();
    expect(() => network.node(reader).readIndex(reader === 1 ? EMPTY_BYTES : context('x'))).toThrow(error);
  });

  test('the pending-read bound drops further reads', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], { maxPendingReadIndexRequests: 2 }, 1);
    network.isolate(2);
    network.isolate(3);
    network.node(1).readIndex(context('r1'));
    network.node(1).readIndex(context('r2'));
    expect(() => network.node(1).readIndex(context('r3'))).toThrow(ReadIndexDroppedError);
  });
});

describe('membership changes', () => {
  test('add a learner, promote it, then remove the leader', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.propose(1, 'a');
    network.add(4);
    network.node(1).proposeConfChange(change('addLearner', 4));
    network.stabilize();
    expect(network.member(1).confState).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(network.member(4).confState).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(network.member(4).appliedData).toEqual(['a']);

    // A learner neither counts for commit nor campaigns.
    network.isolate(2);
    network.isolate(3);
    network.propose(1, 'needs a voter');
    expect(network.member(1).appliedData).toEqual(['a']);
    expect(network.member(4).node.status().lastIndex).toBe(network.node(1).status().lastIndex);
    network.tick(30, [4]);
    expect(network.node(4).status().softState.role).toBe('follower');
    network.heal();
    network.tick(1, [1]);
    expect(network.member(1).appliedData).toEqual(['a', 'needs a voter']);

    // Promote.
    network.node(1).proposeConfChange(change('addNode', 4));
    network.stabilize();
    expect(network.member(4).confState).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    network.isolate(2);
    network.propose(1, 'three of four');
    expect(network.member(4).appliedData.at(-1)).toBe('three of four');
    network.heal();

    // Remove the leader: it steps down once the change applies and never campaigns again.
    network.node(1).proposeConfChange(change('removeNode', 1));
    network.stabilize();
    expect(network.node(1).status().softState.role).toBe('follower');
    expect(network.member(1).confState).toEqual({ voters: [2, 3, 4], learners: [] });
    network.tick(40);
    const leaders = network.leaderIds();
    expect(leaders).toHaveLength(1);
    expect(leaders[0]).not.toBe(1);
    network.propose(leaders[0]!, 'after removal');
    for (const id of [2, 3, 4]) {
      expect(network.member(id).confState).toEqual({ voters: [2, 3, 4], learners: [] });
      expect(network.member(id).appliedData.at(-1)).toBe('after removal');
    }
  });

  test('only one membership change may be pending at a time', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3], {}, 1);
    network.isolate(2);
    network.isolate(3);
    network.node(1).proposeConfChange(change('addLearner', 4));
    expect(() => network.node(1).proposeConfChange(change('addLearner', 5))).toThrow(/already pending/);
    network.heal();
    network.tick(1, [1]);
    network.node(1).proposeConfChange(change('addLearner', 5));
    network.stabilize();
    expect(network.member(1).confState.learners).toEqual([4, 5]);
  });

  test('removing the last voter is refused', () => {
    const network = TestNetwork.bootstrapped([1], {}, 1);
    expect(() => network.node(1).proposeConfChange(change('removeNode', 1))).toThrow(ProposalDroppedError);
  });

  test('adding a voter to a single-node cluster', () => {
    const network = TestNetwork.bootstrapped([1], {}, 1);
    network.propose(1, 'a');
    network.add(2);
    network.node(1).proposeConfChange(change('addNode', 2));
    network.stabilize();
    network.tick(2, [1]);
    expect(network.member(2).appliedData).toEqual(['a']);
    network.isolate(2);
    network.propose(1, 'b');
    expect(network.member(1).appliedData).toEqual(['a']); // a quorum of two is needed now
  });
});

describe('RawNode API', () => {
  test('bootstrap puts committed conf changes in the first Ready', () => {
    const storage = new MemoryStorage();
    const node = new RawNode(testConfig(1, storage));
    node.bootstrap([1, 2, 3]);
    const ready = node.ready();
    expect(ready.hardState).toEqual({ term: 1, vote: 0, commit: 3 });
    expect(ready.entries.map((e) => [e.index, e.term, e.type])).toEqual([
      [1, 1, 'confChange'],
      [2, 1, 'confChange'],
      [3, 1, 'confChange'],
    ]);
    expect(ready.committedEntries).toHaveLength(3);
    expect(() => node.ready()).toThrow(RaftUsageError);
    node.advance();
    expect(() => node.advance()).toThrow(RaftUsageError);
    storage.append(ready.entries);
    expect(() => new RawNode(testConfig(1, storage)).bootstrap([1])).toThrow(RaftUsageError);
  });

  test('local-only message types from the network are ignored', () => {
    const network = TestNetwork.bootstrapped([1, 2, 3]);
    for (const type of ['MsgHup', 'MsgBeat', 'MsgCheckQuorum'] as const) network.node(2).step(message({ type, from: 3, to: 2 }));
    network.stabilize();
    expect(network.leaderIds()).toEqual([]);
  });

  test.each([
    { field: 'electionTicks', value: 1 },
    { field: 'heartbeatTicks', value: 0 },
    { field: 'maxInflightMessages', value: 0 },
    { field: 'id', value: 0 },
  ])('config validation rejects $field = $value', ({ field, value }) => {
    expect(() => new RawNode({ ...testConfig(1, new MemoryStorage()), [field]: value })).toThrow(field);
  });
});
