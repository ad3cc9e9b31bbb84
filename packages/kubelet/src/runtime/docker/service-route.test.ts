import { ServiceRouteError, serviceRoute, serviceRouteCommand } from './service-route';

describe('serviceRoute', () => {
  test.each([
    ['10.96.0.0/12', '172.18.0.5'],
    ['10.0.0.0/8', '10.250.1.2'],
    ['192.168.7.0/24', '192.168.1.1'],
    ['10.96.0.1/32', '172.18.0.5'],
  ])('accepts %s via %s', (cidr, via) => {
    expect(serviceRoute(cidr, via)).toEqual({ cidr, via });
  });

  test.each([
    ['10.96.0.0', '172.18.0.5', /not an IPv4 CIDR/],
    ['10.96.0.0/33', '172.18.0.5', /not an IPv4 CIDR/],
    ['10.96.0.0/12/1', '172.18.0.5', /not an IPv4 CIDR/],
    ['10.256.0.0/16', '172.18.0.5', /not an IPv4 CIDR/],
    ['fd00::/64', '172.18.0.5', /not an IPv4 CIDR/],
    ['10.96.0.1/12', '172.18.0.5', /host bits set/],
    ['10.96.0.0/12', undefined, /no address on the pod network/],
    ['10.96.0.0/12', '', /no address on the pod network/],
    ['10.96.0.0/12', 'worker-1', /next hop "worker-1" is not an IPv4 address/],
  ])('rejects %s via %s', (cidr, via, message) => {
    expect(() => serviceRoute(cidr, via)).toThrow(ServiceRouteError);
    expect(() => serviceRoute(cidr, via)).toThrow(message);
  });

  test('the command replaces any route of the range, so running it twice changes nothing', () => {
    expect(serviceRouteCommand({ cidr: '10.96.0.0/12', via: '172.18.0.5' })).toEqual(['ip', 'route', 'replace', '10.96.0.0/12', 'via', '172.18.0.5']);
  });
});
