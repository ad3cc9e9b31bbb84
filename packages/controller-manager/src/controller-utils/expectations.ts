// ControllerExpectations, as upstream's controller_utils: a controller that
// has just asked for N pods remembers that it expects N creations (and which
// pods it expects to disappear), and does not act on the key again until the
// informer has shown them all, so a burst of its own writes is not mistaken
// for missing pods and doubled. Expectations expire after a while so a lost
// event cannot wedge a controller forever.

/** Upstream's ExpectationsTimeout: past this an unmet expectation is ignored. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60_000;

interface Expectation {
  adds: number;
  /** Keys of the pods whose deletion is awaited. */
  deletions: Set<string>;
  setAtMs: number;
}

export class ControllerExpectations {
  private readonly records = new Map<string, Expectation>();

  constructor(private readonly nowMs: () => number) {}

  /** True when the controller may sync `key`: nothing pending, everything observed, or expired. */
  satisfied(key: string): boolean {
    const record = this.records.get(key);
    if (record === undefined) return true;
    if (record.adds <= 0 && record.deletions.size === 0) return true;
    return this.nowMs() - record.setAtMs > EXPECTATIONS_TIMEOUT_MS;
  }

  expectCreations(key: string, count: number): void {
    this.records.set(key, { adds: count, deletions: new Set(), setAtMs: this.nowMs() });
  }

  expectDeletions(key: string, podKeys: readonly string[]): void {
    this.records.set(key, { adds: 0, deletions: new Set(podKeys), setAtMs: this.nowMs() });
  }

  /** A creation was seen (or will never happen because the create failed or was skipped). */
  creationObserved(key: string): void {
    const record = this.records.get(key);
    if (record !== undefined) record.adds -= 1;
  }

  /** The pod `podKey` was seen deleted (or its delete failed). */
  deletionObserved(key: string, podKey: string): void {
    this.records.get(key)?.deletions.delete(podKey);
  }

  /** The controller's object is gone. */
  delete(key: string): void {
    this.records.delete(key);
  }

  /** Pending creations and deletions, for tests and logs. */
  pending(key: string): { adds: number; deletions: number } | undefined {
    const record = this.records.get(key);
    return record === undefined ? undefined : { adds: record.adds, deletions: record.deletions.size };
  }
}
