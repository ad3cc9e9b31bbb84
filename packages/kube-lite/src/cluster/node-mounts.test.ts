import { mountPointsBelow } from './node-mounts';

describe('mountPointsBelow', () => {
  const mountInfo = [
    '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
    '44 27 254:0 /data/nodes/worker-1/runtime/mount-namespaces /data/nodes/worker-1/runtime/mount-namespaces rw,relatime - ext4 /dev/vda rw',
    '69 44 0:4 mnt:[4026532178] /data/nodes/worker-1/runtime/mount-namespaces/abc rw - nsfs nsfs rw',
    '70 27 254:0 /x /data/nodes/worker-10/runtime/mount-namespaces rw - ext4 /dev/vda rw',
    '71 27 254:0 /y /data/nodes/worker-1/my\\040dir rw - ext4 /dev/vda rw',
    '',
  ].join('\n');
  const cases: { name: string; directory: string; points: string[] }[] = [
    {
      name: 'a node\'s namespace files before their directory\'s bind, octal escapes decoded',
      directory: '/data/nodes/worker-1',
      points: ['/data/nodes/worker-1/runtime/mount-namespaces/abc', '/data/nodes/worker-1/runtime/mount-namespaces', '/data/nodes/worker-1/my dir'],
    },
    { name: 'another node whose name starts the same: only its own', directory: '/data/nodes/worker-10', points: ['/data/nodes/worker-10/runtime/mount-namespaces'] },
    { name: 'nothing mounted there', directory: '/elsewhere', points: [] },
  ];
  it.each(cases)('$name', ({ directory, points }) => {
    expect(mountPointsBelow(mountInfo, directory)).toEqual(points);
  });
});
