// A binary heap keyed by string, so an entry can be found, updated or
// removed in O(log n) (upstream's heap.Heap with its key function).

export class KeyedHeap<T> {
  private readonly items: { key: string; value: T }[] = [];
  private readonly indexOf = new Map<string, number>();

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  has(key: string): boolean {
    return this.indexOf.has(key);
  }

  get(key: string): T | undefined {
    const index = this.indexOf.get(key);
    return index === undefined ? undefined : this.items[index]?.value;
  }

  peek(): T | undefined {
    return this.items[0]?.value;
  }

  /** Adds, or replaces the value under an existing key and restores order. */
  push(key: string, value: T): void {
    const index = this.indexOf.get(key);
    if (index !== undefined) {
      (this.items[index] as { key: string; value: T }).value = value;
      this.fix(index);
      return;
    }
    this.items.push({ key, value });
    this.indexOf.set(key, this.items.length - 1);
    this.up(this.items.length - 1);
  }

  pop(): T | undefined {
    if (this.items.length === 0) return undefined;
    const top = this.items[0] as { key: string; value: T };
    this.removeAt(0);
    return top.value;
  }

  delete(key: string): T | undefined {
    const index = this.indexOf.get(key);
    if (index === undefined) return undefined;
    const value = (this.items[index] as { key: string; value: T }).value;
    this.removeAt(index);
    return value;
  }

  values(): T[] {
    return this.items.map((item) => item.value);
  }

  private removeAt(index: number): void {
    const removed = this.items[index] as { key: string; value: T };
    const last = this.items.pop() as { key: string; value: T };
    this.indexOf.delete(removed.key);
    if (index < this.items.length) {
      this.items[index] = last;
      this.indexOf.set(last.key, index);
      this.fix(index);
    }
  }

  private fix(index: number): void {
    if (!this.up(index)) this.down(index);
  }

  private lessAt(i: number, j: number): boolean {
    return this.less((this.items[i] as { value: T }).value, (this.items[j] as { value: T }).value);
  }

  private swap(i: number, j: number): void {
    const a = this.items[i] as { key: string; value: T };
    const b = this.items[j] as { key: string; value: T };
    this.items[i] = b;
    this.items[j] = a;
    this.indexOf.set(b.key, i);
    this.indexOf.set(a.key, j);
  }

  private up(index: number): boolean {
    let moved = false;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.lessAt(index, parent)) break;
      this.swap(index, parent);
      index = parent;
      moved = true;
    }
    return moved;
  }

  private down(index: number): void {
    const n = this.items.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= n) return;
      const right = left + 1;
      const child = right < n && this.lessAt(right, left) ? right : left;
      if (!this.lessAt(child, index)) return;
      this.swap(index, child);
      index = child;
    }
  }
}
