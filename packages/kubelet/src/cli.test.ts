import { ConfigError, grpcAddressOf, parseDurationMs, parseKubeletFlags, type FlagEnvironment } from './cli';

const kubeconfig = `
apiVersion: v1
kind: Config
clusters:
- name: kube-lite
  cluster:
    server: https://10.0.0.5:6443
    certificate-authority-data: ${Buffer.from('CA PEM').toString('base64')}
users:
- name: node
  user:
    tokenFile: /etc/kubelet/token
contexts:
- name: node@kube-lite
  context: {cluster: kube-lite, user: node}
current-context: node@kube-lite
`;

const files: Record<string, string> = {
  '/etc/kubelet/kubeconfig': kubeconfig,
  '/etc/kubelet/token': 'node-token\n',
  '/etc/kubelet/api-token': 'apiserver-secret\n',
  '/etc/kubelet/ca.pem': 'OTHER CA',
};

const environment: FlagEnvironment = {
  hostname: 'Worker-1',
  nodeIP: '192.168.0.7',
  readFile: (file) => {
    const text = files[file];
    if (text === undefined) throw new Error('ENOENT: no such file');
    return text;
  },
};

describe('parseKubeletFlags', () => {
  it('defaults to upstream values and the machine', () => {
    const flags = parseKubeletFlags(['--master', '127.0.0.1:6444', '--insecure'], environment);
    expect(flags).toMatchObject({
      connection: { address: '127.0.0.1:6444', insecure: true },
      nodeName: 'worker-1',
      nodeIP: '192.168.0.7',
      containerRuntime: 'process',
      rootDirectory: '/var/lib/kubelet',
      certDirectory: '/var/lib/kubelet/pki',
      podIPBlock: '127.1.0.0/16',
      port: 10250,
      address: '0.0.0.0',
      tls: undefined,
      clientCaPem: undefined,
      apiToken: undefined,
      registerNode: true,
      nodeStatusUpdateFrequencyMs: 10_000,
      nodeStatusReportFrequencyMs: 300_000,
      nodeLeaseDurationSeconds: 40,
      capacity: { pods: 110 },
      clusterDns: [],
      clusterDomain: 'cluster.local',
      logLevel: 'info',
    });
  });

  const cases: { name: string; argv: string[]; expected: Record<string, unknown> }[] = [
    {
      name: 'kubeconfig server, CA and token file, with the gRPC port replaced',
      argv: ['--kubeconfig', '/etc/kubelet/kubeconfig', '--apiserver-grpc-port', '6444'],
      expected: { connection: { address: '10.0.0.5:6444', token: 'node-token', tls: { caPem: 'CA PEM' } } },
    },
    {
      name: '--token, --ca-file and --server over the kubeconfig',
      argv: ['--kubeconfig', '/etc/kubelet/kubeconfig', '--server', 'https://10.0.0.9:7000', '--token', 'flag-token', '--ca-file', '/etc/kubelet/ca.pem'],
      expected: { connection: { address: '10.0.0.9:7000', token: 'flag-token', tls: { caPem: 'OTHER CA' } } },
    },
    {
      name: '--client-ca-file: the CA whose client certificates may call the kubelet API',
      argv: ['--master', 'x:1', '--insecure', '--client-ca-file', '/etc/kubelet/ca.pem'],
      expected: { clientCaPem: 'OTHER CA', apiToken: undefined },
    },
    {
      name: 'node identity, directories and the local-cluster shape',
      argv: ['--master', 'x:1', '--insecure', '--hostname-override', 'node-3', '--node-ip', '127.0.0.1', '--root-dir', '/tmp/k3', '--pod-ip-block', '127.3.0.0/16', '--port', '10253', '--node-status-update-frequency', '1s', '--node-labels', 'zone=a,tier=web'],
      expected: { nodeName: 'node-3', nodeIP: '127.0.0.1', rootDirectory: '/tmp/k3', certDirectory: '/tmp/k3/pki', podIPBlock: '127.3.0.0/16', port: 10253, nodeStatusUpdateFrequencyMs: 1000, nodeLabels: { zone: 'a', tier: 'web' } },
    },
    {
      name: 'capacity overrides',
      argv: ['--master', 'x:1', '--insecure', '--cpu', '1500m', '--memory', '2Gi', '--max-pods', '20'],
      expected: { capacity: { cpuMillis: 1500, memoryBytes: 2 * 1024 ** 3, pods: 20 } },
    },
    {
      name: 'register-node false, api token from a file',
      argv: ['--master', 'x:1', '--insecure', '--register-node=false', '--kubelet-api-token-file', '/etc/kubelet/api-token', '--log-level', 'debug'],
      expected: { registerNode: false, apiToken: 'apiserver-secret', logLevel: 'debug' },
    },
    {
      name: 'cluster DNS: comma-separated and repeated --cluster-dns, --cluster-domain',
      argv: ['--master', 'x:1', '--insecure', '--cluster-dns', '10.96.0.10,10.96.0.11', '--cluster-dns', '172.18.0.4', '--cluster-domain', 'Example.Internal.'],
      expected: { clusterDns: ['10.96.0.10', '10.96.0.11', '172.18.0.4'], clusterDomain: 'example.internal' },
    },
    {
      name: 'docker runtime: pods route the Service range via this node',
      argv: ['--master', 'x:1', '--insecure', '--container-runtime', 'docker', '--service-route-cidr', '10.96.0.0/12'],
      expected: { serviceRouteCidr: '10.96.0.0/12' },
    },
  ];
  it.each(cases)('$name', ({ argv, expected }) => {
    expect(parseKubeletFlags(argv, environment)).toMatchObject(expected);
  });

  const errors: { argv: string[]; message: RegExp }[] = [
    { argv: [], message: /no API server: give --kubeconfig or --master/ },
    { argv: ['--master', 'x:1'], message: /no cluster CA/ },
    { argv: ['--master', 'x:1', '--insecure', '--container-runtime', 'containerd'], message: /invalid value "containerd" for --container-runtime: use process or docker/ },
    { argv: ['--master', 'x:1', '--insecure', '--container-runtime', 'rkt'], message: /--container-runtime: use process/ },
    { argv: ['--master', 'x:1', '--insecure', '--pod-ip-block', '10.0.0.0/16'], message: /--pod-ip-block: .*not inside 127\.0\.0\.0\/8/ },
    { argv: ['--master', 'x:1', '--insecure', '--port', 'http'], message: /--port: use an integer from 0 to 65535/ },
    { argv: ['--master', 'x:1', '--insecure', '--node-status-update-frequency', 'soon'], message: /--node-status-update-frequency: use a positive duration/ },
    { argv: ['--master', 'x:1', '--insecure', '--memory', 'lots'], message: /--memory: use a positive quantity/ },
    { argv: ['--master', 'x:1', '--insecure', '--node-ip', 'node.local'], message: /--node-ip: use an IP address/ },
    { argv: ['--master', 'x:1', '--insecure', '--hostname-override', 'bad_name!'], message: /not a valid DNS subdomain/ },
    { argv: ['--master', 'x:1', '--insecure', '--tls-cert-file', '/a.crt'], message: /go together/ },
    { argv: ['--kubeconfig', '/missing'], message: /--kubeconfig: cannot read \/missing/ },
    { argv: ['--master', 'x:1', '--insecure', '--client-ca-file', '/missing'], message: /--client-ca-file: cannot read \/missing/ },
    { argv: ['--master', 'x:1', '--insecure', '--bogus'], message: /unknown option '--bogus'/ },
    { argv: ['--master', 'x:1', '--insecure', '--cluster-dns', 'dns.local'], message: /--cluster-dns: use IP addresses/ },
    { argv: ['--master', 'x:1', '--insecure', '--cluster-domain', 'bad_domain'], message: /--cluster-domain: use a DNS domain/ },
  ];
  it.each(errors)('rejects $argv with a clear ConfigError', ({ argv, message }) => {
    expect(() => parseKubeletFlags(argv, environment)).toThrow(ConfigError);
    expect(() => parseKubeletFlags(argv, environment)).toThrow(message);
  });
});

describe('helpers', () => {
  it.each([
    ['https://10.0.0.1:6443', undefined, '10.0.0.1:6443'],
    ['https://10.0.0.1:6443', 6444, '10.0.0.1:6444'],
    ['https://api.local', undefined, 'api.local:443'],
    ['127.0.0.1:6444', undefined, '127.0.0.1:6444'],
  ] as const)('grpcAddressOf(%s, %s) = %s', (server, port, expected) => {
    expect(grpcAddressOf(server, port)).toBe(expected);
  });

  it.each([
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1.5s', 1500],
  ] as const)('parseDurationMs(%s) = %d', (text, expected) => {
    expect(parseDurationMs(text, 'x')).toBe(expected);
  });
});
