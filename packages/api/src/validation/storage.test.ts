import { applyDefaults } from '../defaults';
import { resolveResource, resourceForShortName } from '../scheme';
import type { KubeObject } from '../types/meta';
import type { StorageClass } from '../types/storage';
import { formatFieldError } from './field';
import { validateObject, validateObjectUpdate } from './index';

const storageClass = (fields: Partial<StorageClass> = {}, name = 'fast'): StorageClass => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name },
  provisioner: 'kube-lite.io/local-path',
  ...fields,
});

function causes(object: KubeObject): string[] {
  return validateObject(applyDefaults(object)).map(formatFieldError);
}

describe('StorageClass', () => {
  test('is served as storageclasses.storage.k8s.io (sc), cluster-scoped', () => {
    const info = resourceForShortName('sc');
    expect([info?.group, info?.resource, info?.namespaced]).toEqual(['storage.k8s.io', 'storageclasses', false]);
    expect(resolveResource('storageclass')?.kind).toBe('StorageClass');
  });

  test('defaults: reclaimPolicy Delete, volumeBindingMode Immediate; given values are kept', () => {
    expect(applyDefaults(storageClass())).toMatchObject({ reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
    expect(applyDefaults(storageClass({ reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' }))).toMatchObject({
      reclaimPolicy: 'Retain',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
  });

  test.each<[string, StorageClass, string[]]>([
    ['a good class', storageClass({ parameters: { type: 'ssd' }, allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['a'] }] }] }), []],
    ['no provisioner', storageClass({ provisioner: '' }), ['provisioner: Required value']],
    [
      'provisioner not a qualified name',
      storageClass({ provisioner: 'a/b/c' }),
      [
        "provisioner: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      ],
    ],
    ['Recycle is not a class reclaim policy', storageClass({ reclaimPolicy: 'Recycle' as 'Delete' }), ['reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"']],
    [
      'unknown binding mode',
      storageClass({ volumeBindingMode: 'Later' as 'Immediate' }),
      ['volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"'],
    ],
    ['empty parameter key', storageClass({ parameters: { '': 'x' } }), ['parameters: Invalid value: "": field can not be empty.']],
    ['parameters too large', storageClass({ parameters: { big: 'x'.repeat(256 * 1024) } }), ['parameters: Too long: may not be more than 262144 bytes']],
    ['namespace given', { ...storageClass(), metadata: { name: 'fast', namespace: 'default' } }, ['metadata.namespace: Forbidden: not allowed on this type']],
    [
      'topology term without expressions, and an expression without values',
      storageClass({ allowedTopologies: [{}, { matchLabelExpressions: [{ key: 'zone', values: [] }] }] }),
      ['allowedTopologies[0].matchLabelExpressions: Required value: must have at least one label expression', 'allowedTopologies[1].matchLabelExpressions[0].values: Required value: must specify as least one value'],
    ],
  ])('%s', (_name, object, expected) => {
    expect(causes(object)).toEqual(expected);
  });

  test.each<[string, Partial<StorageClass>, string[]]>([
    ['annotations and allowVolumeExpansion may change', { allowVolumeExpansion: true, metadata: { name: 'fast', annotations: { a: 'b' } } }, []],
    ['provisioner is fixed', { provisioner: 'example.com/other' }, ['provisioner: Forbidden: updates to provisioner are forbidden.']],
    ['parameters are fixed', { parameters: { type: 'hdd' } }, ['parameters: Forbidden: updates to parameters are forbidden.']],
    ['reclaimPolicy is fixed', { reclaimPolicy: 'Retain' }, ['reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.']],
    ['volumeBindingMode is fixed', { volumeBindingMode: 'WaitForFirstConsumer' }, ['volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable']],
  ])('update: %s', (_name, change, expected) => {
    const previous = applyDefaults(storageClass({ parameters: { type: 'ssd' } }));
    const next = applyDefaults({ ...previous, ...change });
    expect(validateObjectUpdate(next, previous).map(formatFieldError)).toEqual(expected);
  });
});
