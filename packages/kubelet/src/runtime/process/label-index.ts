// Which runtime objects carry a given value of one label, so that the
// kubelet's per-pod lookups (every pod sync lists its sandboxes and
// containers by the pod-uid label) do not scan every object on the node.

/** Ids grouped by their value of one label key, each group in insertion order. */
export class LabelIndex {
  private readonly groups = new Map<string, Set<string>>();

  constructor(
    /** The label key whose values are indexed. */
    readonly labelKey: string,
  ) {}

  add(id: string, labels: Record<string, string>): void {
    const value = labels[this.labelKey];
    if (value === undefined) return;
    let group = this.groups.get(value);
    if (!group) {
      group = new Set();
      this.groups.set(value, group);
    }
    group.add(id);
  }

  delete(id: string, labels: Record<string, string>): void {
    const value = labels[this.labelKey];
    if (value === undefined) return;
    const group = this.groups.get(value);
    group?.delete(id);
    if (group?.size === 0) this.groups.delete(value);
  }

  /** Ids of the objects whose label equals value; undefined when the wanted labels do not constrain the key (the caller must scan). */
  candidates(wanted: Record<string, string> | undefined): string[] | undefined {
    const value = wanted?.[this.labelKey];
    if (value === undefined) return undefined;
    return [...(this.groups.get(value) ?? [])];
  }
}
