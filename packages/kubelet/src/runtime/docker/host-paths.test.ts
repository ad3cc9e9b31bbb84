import { HostPathMapper, ownContainerId } from './host-paths';

describe('HostPathMapper', () => {
  const mapper = new HostPathMapper([
    { source: '/var/lib/docker/volumes/w1/_data', destination: '/var/lib/kubelet' },
    { source: '/srv/pods', destination: '/var/lib/kubelet/pods' },
    { source: '/var/run/docker.sock', destination: '/var/run/docker.sock' },
  ]);

  test.each([
    ['/var/lib/kubelet', '/var/lib/docker/volumes/w1/_data'],
    ['/var/lib/kubelet/logs/x', '/var/lib/docker/volumes/w1/_data/logs/x'],
    ['/var/lib/kubelet/pods/u/volumes/v', '/srv/pods/u/volumes/v'],
    ['/var/lib/kubeletx/a', '/var/lib/kubeletx/a'],
    ['/data/host', '/data/host'],
    ['/var/lib/kubelet/../kubelet/a', '/var/lib/docker/volumes/w1/_data/a'],
  ])('%s -> %s', (kubeletPath, hostPath) => {
    expect(mapper.toHost(kubeletPath)).toBe(hostPath);
  });

  test('without mounts the path is the host path', () => {
    expect(new HostPathMapper([]).toHost('/var/lib/kubelet/a')).toBe('/var/lib/kubelet/a');
  });
});

describe('ownContainerId', () => {
  const id = 'a'.repeat(64);
  test.each([
    { name: 'docker, data root on the root file system', line: `612 600 8:1 /var/lib/docker/containers/${id}/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw`, expected: id },
    { name: 'docker, data root its own mount', line: `612 600 8:1 /containers/${id}/resolv.conf /etc/resolv.conf rw - ext4 /dev/sdb rw`, expected: id },
    { name: 'a host', line: '25 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw', expected: undefined },
    { name: 'a container id elsewhere than /etc', line: `700 600 8:1 /var/lib/docker/containers/${id}/x /data rw - ext4 /dev/sda1 rw`, expected: undefined },
  ])('$name', ({ line, expected }) => {
    expect(ownContainerId(`1 0 0:1 / / rw - overlay overlay rw\n${line}\n`)).toBe(expected);
  });
});
