// What the raft loop applies committed entries to on an etcd-lite member:
// client requests go to the applier (MVCC store and lessor), membership
// entries and conf changes to the member list. Each entry's outcome is handed
// to the caller that proposed it, when that caller is on this member.

import type { Backend, BackendReplacement } from '../backend';
import type { Lessor } from '../lease';
import type { Logger } from '../observability';
import type { MvccStore } from '../mvcc';
import type { ConfChange, ConfState, Entry, Snapshot, SnapshotMetadata } from '../raft';
import type { Applier } from './apply';
import { decodeRaftRequest, MalformedRaftRequestError, type LocalProposals } from './apply-request';
import type { EtcdServerError } from './errors';
import { decodeConfChangeContext, decodeMemberEntry, isMemberEntry, MalformedMemberEntryError } from './member-entries';
import type { MemberInfo, Membership } from './members';
import type { StateMachine } from './raft-node';
import { MissingSnapshotImageError } from './snapshot-images';
import type { WaiterRegistry } from './waiters';

/** What a proposer learns once its entry is applied. */
export type ProposalOutcome = { status: 'applied'; response: unknown } | { status: 'failed'; error: EtcdServerError };

export interface EtcdStateMachineOptions {
  backend: Backend;
  store: MvccStore;
  lessor: Lessor;
  applier: Applier;
  membership: Membership;
  /** Recorded with the first membership change this member applies. */
  clusterId: number;
  /** Name and peer URLs of a member announced by a bootstrap change, which carries none. */
  initialMember: (id: number) => MemberInfo | undefined;
  waiters: WaiterRegistry<ProposalOutcome>;
  /** This member's own proposals, applied without decoding them again. */
  localProposals?: LocalProposals;
  /** The backend image received from the leader for a snapshot the core accepted (see BackendSnapshotImages.take). */
  receivedImage: (metadata: SnapshotMetadata) => Promise<BackendReplacement | undefined>;
  /** Told after the member list changed (the transport follows it); with the change when it is newly applied. */
  onMembershipChanged: (change?: ConfChange) => void;
  logger: Logger;
}

const applied: ProposalOutcome = { status: 'applied', response: undefined };

export class EtcdStateMachine implements StateMachine {
  constructor(private readonly options: EtcdStateMachineOptions) {}

  applyEntry(entry: Entry): void {
    try {
      this.applyNormalEntry(entry);
    } catch (error) {
      if (!(error instanceof MalformedRaftRequestError || error instanceof MalformedMemberEntryError)) throw error;
      // Every member fails the same way on the same bytes: skip the entry everywhere.
      this.options.logger.error('skipped an undecodable raft entry', { index: entry.index, error });
      this.options.applier.applyNoop(entry.index);
    }
  }

  private applyNormalEntry(entry: Entry): void {
    const { store, waiters } = this.options;
    if (isMemberEntry(entry.data)) {
      const memberEntry = decodeMemberEntry(entry.data);
      if (entry.index > store.consistentIndex) {
        const { membership } = this.options;
        const txn = store.write(entry.index);
        const { id, name, clientUrls, peerUrls } = memberEntry.member;
        if (memberEntry.kind === 'attributes') membership.setAttributes(id, name, clientUrls, txn);
        else membership.setPeerUrls(id, peerUrls, txn);
        txn.end();
        this.options.onMembershipChanged();
      }
      waiters.resolve(memberEntry.requestId, applied);
      return;
    }
    const request = this.options.localProposals?.take(entry.data) ?? decodeRaftRequest(entry.data);
    const result = this.options.applier.apply(request.body, entry.index, entry.term);
    if (result.status === 'applied' && request.body.type === 'compaction') {
      this.options.logger.info('compacted', { revision: String(request.body.request.revision ?? 0), index: entry.index });
    }
    if (result.status === 'applied') waiters.resolve(request.id, { status: 'applied', response: result.response });
    else if (result.status === 'failed') waiters.resolve(request.id, { status: 'failed', error: result.error });
  }

  applyConfChange(entry: Entry, change: ConfChange, _confState: ConfState): void {
    const context = decodeConfChangeContext(change.context);
    const { store, membership } = this.options;
    if (entry.index > store.consistentIndex) {
      const txn = store.write(entry.index);
      membership.applyConfChange(change, context?.member, this.options.initialMember(change.nodeId), this.options.clusterId, txn);
      txn.end();
      this.options.onMembershipChanged(change);
    } else {
      // Replayed after a restart: the member list already has it; only the transport needs to follow.
      this.options.onMembershipChanged();
    }
    if (context !== undefined) this.options.waiters.resolve(context.requestId, applied);
  }

  async restoreSnapshot(snapshot: Snapshot): Promise<void> {
    const { backend, store, lessor, membership, logger } = this.options;
    const image = await this.options.receivedImage(snapshot.metadata);
    if (image === undefined) throw new MissingSnapshotImageError(snapshot.metadata);
    await store.flush();
    await backend.install(image);
    await store.reload();
    await lessor.reload();
    await membership.reload(backend);
    logger.info('restored the state machine from a snapshot', {
      snapshotIndex: snapshot.metadata.index,
      revision: store.revision,
      consistentIndex: store.consistentIndex,
    });
    this.options.onMembershipChanged();
  }

  async persistApplied(): Promise<void> {
    // Leases, members and keys all live in the backend, with the consistent
    // index in the same batches: syncing it leaves nothing that only the log has.
    await this.options.store.sync();
  }
}
