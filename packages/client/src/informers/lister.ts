// Read access to an informer's cache, as client-go's listers: list by label
// selector across or within a namespace, get by namespace and name. The
// objects are the cache's own (frozen): copy before changing one.
import { parseSelector, type KubeObject, type Selector } from '@kube-lite/api';
import { NAMESPACE_INDEX, objectKey, type Indexer } from './indexer';

export class Lister<T extends KubeObject> {
  constructor(private readonly indexer: Indexer<T>) {}

  /** All cached objects matching `selector` (everything when absent), across namespaces. */
  list(selector?: Selector | string): T[] {
    return filterBySelector(this.indexer.list(), selector);
  }

  /** One object; `namespace` is undefined (or "") for cluster-scoped kinds. */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.indexer.get(objectKey({ metadata: namespace ? { namespace, name } : { name } }));
  }

  /** The view of one namespace. */
  namespace(namespace: string): NamespaceLister<T> {
    return new NamespaceLister(this.indexer, namespace);
  }

  /** Objects filed under `value` in a named index (see Indexer). */
  byIndex(indexName: string, value: string): T[] {
    return this.indexer.byIndex(indexName, value);
  }
}

export class NamespaceLister<T extends KubeObject> {
  constructor(
    private readonly indexer: Indexer<T>,
    readonly namespaceName: string,
  ) {}

  list(selector?: Selector | string): T[] {
    const inNamespace = this.indexer.hasIndex(NAMESPACE_INDEX)
      ? this.indexer.byIndex(NAMESPACE_INDEX, this.namespaceName)
      : this.indexer.list().filter((object) => object.metadata?.namespace === this.namespaceName);
    return filterBySelector(inNamespace, selector);
  }

  get(name: string): T | undefined {
    return this.indexer.get(`${this.namespaceName}/${name}`);
  }
}

function filterBySelector<T extends KubeObject>(objects: T[], selector: Selector | string | undefined): T[] {
  if (selector === undefined || selector === '') return objects;
  const parsed = typeof selector === 'string' ? parseSelector(selector) : selector;
  if (parsed.empty()) return objects;
  return objects.filter((object) => parsed.matches(object.metadata?.labels));
}
