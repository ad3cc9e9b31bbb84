import { loopbackServiceAddress } from './service-address';

describe('loopbackServiceAddress', () => {
  test.each([
    ['10.96.0.1', '127.96.0.1'],
    ['10.96.3.7', '127.96.3.7'],
    ['10.111.255.254', '127.111.255.254'],
    ['172.20.0.10', '127.20.0.10'],
    ['127.96.0.1', '127.96.0.1'],
    ['None', undefined],
    ['', undefined],
    ['10.96.0', undefined],
    ['10.96.0.256', undefined],
    ['10.96.0.01', undefined],
    ['fd00::1', undefined],
  ])('%p -> %p', (clusterIP, expected) => {
    expect(loopbackServiceAddress(clusterIP)).toBe(expected);
  });
});
