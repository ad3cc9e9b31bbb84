import { AddressBlockError, AddressPool } from './address-pool';
import { findImage, builtinImages, normalizeImageName } from './images';

describe('AddressPool', () => {
  it('hands out addresses in order, skipping those in use and the network address', () => {
    const pool = new AddressPool('127.1.0.0/30');
    expect(pool.size).toBe(2);
    const first = pool.allocate(new Set(), 0);
    expect(first).toEqual({ address: '127.1.0.1', nextIndex: 1 });
    expect(pool.allocate(new Set(['127.1.0.1']), 0)).toEqual({ address: '127.1.0.2', nextIndex: 0 });
    expect(pool.allocate(new Set(['127.1.0.1', '127.1.0.2']), 0)).toBeUndefined();
  });

  it('does not reuse a just-released address while others are free', () => {
    const pool = new AddressPool('127.2.0.0/24');
    const first = pool.allocate(new Set(), 0);
    const second = pool.allocate(new Set(), first?.nextIndex ?? 0); // the first was released meanwhile
    expect(second?.address).toBe('127.2.0.2');
    expect(pool.contains('127.2.0.200')).toBe(true);
    expect(pool.contains('127.3.0.1')).toBe(false);
  });

  it.each(['10.0.0.0/16', '127.1.0.1/16', '127.1.0.0', '127.1.0.0/31', 'x/8'])('rejects %s', (block) => {
    expect(() => new AddressPool(block)).toThrow(AddressBlockError);
  });
});

describe('images', () => {
  it.each([
    ['busybox', 'busybox:latest'],
    ['docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['registry.local:5000/team/app', 'registry.local:5000/team/app:latest'],
    ['ml-serving:1.0', 'ml-serving:1.0'],
  ])('normalizes %s to %s', (image, normalized) => expect(normalizeImageName(image)).toBe(normalized));

  it('knows the sample app and shell images of any tag, and nothing else', () => {
    const images = builtinImages('/repo/examples/apps');
    expect(findImage(images, 'ml-serving:1.0')?.command).toEqual([process.execPath, '/repo/examples/apps/ml-serving/server.js', '--model-version=1.0']);
    expect(findImage(images, 'ml-serving:2.0')?.command).toEqual([process.execPath, '/repo/examples/apps/ml-serving/server.js', '--model-version=2.0']);
    expect(findImage(images, 'busybox:1.36')?.args).toEqual(['/bin/sh']);
    expect(findImage(images, 'nginx:1.25')).toBeUndefined();
    expect(findImage(images, 'ml-serving:3.0')).toBeUndefined();
  });
});
