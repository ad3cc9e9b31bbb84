// The StorageClass columns of `kubectl get sc`, as upstream prints them.
import { printerFor } from './table';

const NOW = Date.parse('2024-05-01T12:00:00Z');

test.each([
  [
    'the default class is marked in the name column',
    {
      metadata: { name: 'local-path', creationTimestamp: '2024-05-01T11:59:00Z', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kube-lite.io/local-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    },
    ['local-path (default)', 'kube-lite.io/local-path', 'Delete', 'WaitForFirstConsumer', false, '60s'],
  ],
  [
    'unset fields print their defaults',
    { metadata: { name: 'fast', creationTimestamp: '2024-05-01T11:59:50Z' }, provisioner: 'example.com/ssd', allowVolumeExpansion: true },
    ['fast', 'example.com/ssd', 'Delete', 'Immediate', true, '10s'],
  ],
])('StorageClass: %s', (_name, object, cells) => {
  const printer = printerFor('StorageClass');
  expect(printer.columns.map((column) => column.name)).toEqual(['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']);
  expect(printer.cells(object, NOW)).toEqual(cells);
});
