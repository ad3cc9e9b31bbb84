// Where a Service's ClusterIP is reachable on a machine that cannot route
// ClusterIPs: the local process cluster, where pods are host processes and
// 10.96.0.0/12 leads nowhere. Linux routes all of 127.0.0.0/8 to the loopback
// device, so kube-proxy serves ClusterIP a.b.c.d at 127.b.c.d and any process
// can reach it without setup. Pure and shared, so that every party computes
// the same answer without talking: kube-proxy (listen address, DNS answers)
// and the kubelet (<SVC>_SERVICE_HOST in a container's environment).

const OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * 127.<b>.<c>.<d> for a ClusterIP <a>.<b>.<c>.<d>; undefined for a value that
 * is not a dotted-quad IPv4 address ("None" of a headless Service, "", IPv6).
 * Pod address blocks must stay clear of the image of the service CIDR
 * (127.96.0.0/12 for the default 10.96.0.0/12).
 */
export function loopbackServiceAddress(clusterIP: string): string | undefined {
  const octets = clusterIP.split('.');
  if (octets.length !== 4 || !octets.every((octet) => OCTET.test(octet))) return undefined;
  return ['127', ...octets.slice(1).map((octet) => String(Number(octet)))].join('.');
}
