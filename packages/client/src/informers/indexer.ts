// The informer's cache: objects by "namespace/name" key, plus secondary
// indexes (by namespace, by node, by controlling owner, or any function) so a
// controller finds "the pods of this ReplicaSet" without scanning everything.
import { controllerOf, type KubeObject } from '@kube-lite/api';

/** The values an object is filed under in one index; [] leaves it out of the index. */
export type IndexFunc<T> = (object: T) => string[];

export const NAMESPACE_INDEX = 'namespace';
export const NODE_NAME_INDEX = 'nodeName';
export const CONTROLLER_UID_INDEX = 'controllerUid';

export function namespaceIndexFunc(object: KubeObject): string[] {
  return [object.metadata?.namespace ?? ''];
}

/** Pods by spec.nodeName; unscheduled pods are filed under "". */
export function nodeNameIndexFunc(object: KubeObject): string[] {
  const spec = (object as { spec?: { nodeName?: string } }).spec;
  return [spec?.nodeName ?? ''];
}

/** Objects by the uid of their controller owner reference; objects without one are left out. */
export function controllerUidIndexFunc(object: KubeObject): string[] {
  const owner = controllerOf(object);
  return owner === undefined ? [] : [owner.uid];
}

/** "namespace/name", or "name" for cluster-scoped objects: client-go's MetaNamespaceKeyFunc. */
export function objectKey(object: KubeObject): string {
  const namespace = object.metadata?.namespace;
  const name = object.metadata?.name ?? '';
  return namespace ? `${namespace}/${name}` : name;
}

/** The inverse of objectKey. */
export function splitObjectKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** Thrown for an index that was never registered: a programming error. */
export class UnknownIndexError extends Error {
  override readonly name = 'UnknownIndexError';
  constructor(readonly indexName: string) {
    super(`index "${indexName}" does not exist`);
  }
}

export class Indexer<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexFuncs = new Map<string, IndexFunc<T>>();
  /** index name -> indexed value -> keys. */
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  /** key -> index name -> values the item is filed under, to unfile it. */
  private readonly filedUnder = new Map<string, Map<string, string[]>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexers(indexers);
  }

  /** Adds indexes (also over the objects already stored); re-registering a name replaces its function. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, func] of Object.entries(indexers)) {
      if (this.indexFuncs.has(name)) for (const key of this.items.keys()) this.unfile(key, name);
      this.indexFuncs.set(name, func);
      this.indices.set(name, new Map());
      for (const [key, item] of this.items) this.file(key, name, item);
    }
  }

  /** Stores (or replaces) an object under its key. */
  set(object: T): void {
    const key = objectKey(object);
    if (this.items.has(key)) this.unfileAll(key);
    this.items.set(key, object);
    for (const name of this.indexFuncs.keys()) this.file(key, name, object);
  }

  /** Removes the object stored under `key`, returning it. */
  deleteKey(key: string): T | undefined {
    const existing = this.items.get(key);
    if (existing === undefined) return undefined;
    this.unfileAll(key);
    this.items.delete(key);
    return existing;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  get size(): number {
    return this.items.size;
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  /** Objects filed under `value` in index `indexName`; throws UnknownIndexError for an unregistered index. */
  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((key) => this.items.get(key) as T);
  }

  indexKeys(indexName: string, value: string): string[] {
    const index = this.indices.get(indexName);
    if (index === undefined) throw new UnknownIndexError(indexName);
    return [...(index.get(value) ?? [])];
  }

  hasIndex(indexName: string): boolean {
    return this.indices.has(indexName);
  }

  /** The values present in an index. */
  indexValues(indexName: string): string[] {
    const index = this.indices.get(indexName);
    if (index === undefined) throw new UnknownIndexError(indexName);
    return [...index.keys()];
  }

  private file(key: string, name: string, object: T): void {
    const values = [...new Set((this.indexFuncs.get(name) as IndexFunc<T>)(object))];
    let filed = this.filedUnder.get(key);
    if (filed === undefined) {
      filed = new Map();
      this.filedUnder.set(key, filed);
    }
    filed.set(name, values);
    const index = this.indices.get(name) as Map<string, Set<string>>;
    for (const value of values) {
      let keys = index.get(value);
      if (keys === undefined) {
        keys = new Set();
        index.set(value, keys);
      }
      keys.add(key);
    }
  }

  private unfile(key: string, name: string): void {
    const filed = this.filedUnder.get(key);
    const index = this.indices.get(name);
    if (filed === undefined || index === undefined) return;
    for (const value of filed.get(name) ?? []) {
      const keys = index.get(value);
      keys?.delete(key);
      if (keys !== undefined && keys.size === 0) index.delete(value);
    }
    filed.delete(name);
  }

  private unfileAll(key: string): void {
    for (const name of this.indexFuncs.keys()) this.unfile(key, name);
    this.filedUnder.delete(key);
  }
}
