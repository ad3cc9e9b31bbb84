import { ClientConnectionError, grpcAddressOf, KubeconfigError, loadClientConfig, parseKubeconfig, readKubeconfig, type ClientConnectionFlags } from './kubeconfig';

const base64 = (text: string): string => Buffer.from(text).toString('base64');

const inline = `
apiVersion: v1
kind: Config
current-context: admin@kube-lite
clusters:
- name: kube-lite
  cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: ${base64('CA PEM')}}
- name: other
  cluster: {server: "https://10.9.9.9:6443"}
users:
- name: admin
  user: {token: secret, client-certificate-data: ${base64('CERT')}, client-key-data: ${base64('KEY')}}
contexts:
- name: other
  context: {cluster: other, user: admin}
- name: admin@kube-lite
  context: {cluster: kube-lite, user: admin}
`;

const byFiles = `
clusters: [{name: c, cluster: {server: "https://api.local", certificate-authority: /etc/k/ca.crt, insecure-skip-tls-verify: true}}]
users: [{name: u, user: {tokenFile: /etc/k/token, client-certificate: /etc/k/u.crt}}]
contexts: [{name: only, context: {cluster: c, user: u}}]
`;

const files: Record<string, string> = {
  '/etc/k/inline.conf': inline,
  '/etc/k/files.conf': byFiles,
  '/etc/k/ca.crt': 'FILE CA',
  '/etc/k/token': 'file-token\n',
  '/etc/k/u.crt': 'FILE CERT',
  '/etc/k/other-ca.pem': 'OTHER CA',
  '/etc/k/broken-ca.conf': byFiles.replace('/etc/k/ca.crt', '/etc/k/missing.crt'),
};

const read = (path: string): string => {
  const text = files[path];
  if (text === undefined) throw new Error(`ENOENT: no such file ${path}`);
  return text;
};

describe('parseKubeconfig', () => {
  test('reads the current context: server, inline CA, token and client certificate', () => {
    expect(parseKubeconfig(inline, 'k', read)).toEqual({
      server: 'https://10.0.0.1:6443',
      caPem: 'CA PEM',
      token: 'secret',
      clientCertificatePem: 'CERT',
      clientKeyPem: 'KEY',
      insecureSkipTlsVerify: false,
    });
  });

  test('reads files the kubeconfig names; a single context is used without current-context', () => {
    expect(readKubeconfig('/etc/k/files.conf', read)).toEqual({
      server: 'https://api.local',
      caPem: 'FILE CA',
      token: 'file-token',
      clientCertificatePem: 'FILE CERT',
      clientKeyPem: undefined,
      insecureSkipTlsVerify: true,
    });
  });

  test.each([
    ['not YAML', 'clusters: [', 'k.yaml', /^kubeconfig k\.yaml: not valid YAML/],
    ['a scalar', 'just text', 'k.yaml', 'kubeconfig k.yaml: not a kubeconfig'],
    ['no contexts', 'contexts: []', 'k.yaml', 'kubeconfig k.yaml: current-context "" not found in contexts'],
    ['unknown current context of several', inline.replace('current-context: admin@kube-lite', 'current-context: gone'), 'k.yaml', 'current-context "gone" not found'],
    ['a context naming a missing cluster', inline.replace('{cluster: kube-lite, user: admin}', '{cluster: nowhere, user: admin}'), 'k.yaml', 'cluster "nowhere" with a server not found'],
    ['an unreadable certificate-authority file', files['/etc/k/broken-ca.conf'] ?? '', 'b.conf', 'kubeconfig b.conf: certificate-authority: cannot read /etc/k/missing.crt'],
  ])('names the problem: %s', (_name, text, path, message) => {
    expect(() => parseKubeconfig(text, path, read)).toThrow(KubeconfigError);
    expect(() => parseKubeconfig(text, path, read)).toThrow(message);
  });

  test('an unreadable kubeconfig names the file', () => {
    expect(() => readKubeconfig('/nope', read)).toThrow(KubeconfigError);
    expect(() => readKubeconfig('/nope', read)).toThrow('kubeconfig /nope: cannot be read: ENOENT: no such file /nope');
  });
});

describe('grpcAddressOf', () => {
  test.each([
    ['https://10.0.0.1:6443', undefined, '10.0.0.1:6443'],
    ['https://10.0.0.1:6443', 6444, '10.0.0.1:6444'],
    ['https://apiserver', undefined, 'apiserver:443'],
    ['http://apiserver', undefined, 'apiserver:80'],
    ['127.0.0.1:6444', undefined, '127.0.0.1:6444'],
    ['127.0.0.1:6444', 7000, '127.0.0.1:7000'],
    ['apiserver', undefined, 'apiserver:443'],
  ] as const)('grpcAddressOf(%s, %s) = %s', (server, port, expected) => {
    expect(grpcAddressOf(server, port)).toBe(expected);
  });
});

describe('loadClientConfig', () => {
  const cases: { name: string; flags: ClientConnectionFlags; expected: ReturnType<typeof loadClientConfig> }[] = [
    {
      name: 'the kubeconfig alone: server, CA, token, client certificate',
      flags: { kubeconfig: '/etc/k/inline.conf' },
      expected: { address: '10.0.0.1:6443', tls: { caPem: 'CA PEM', certPem: 'CERT', keyPem: 'KEY' }, token: 'secret' },
    },
    {
      name: '--apiserver-grpc-port replaces the kubeconfig port',
      flags: { kubeconfig: '/etc/k/inline.conf', grpcPort: 6444 },
      expected: { address: '10.0.0.1:6444', tls: { caPem: 'CA PEM', certPem: 'CERT', keyPem: 'KEY' }, token: 'secret' },
    },
    {
      name: '--master, --token and --ca-file win over the kubeconfig',
      flags: { kubeconfig: '/etc/k/inline.conf', master: 'apiserver:7000', token: 't2', caFile: '/etc/k/other-ca.pem' },
      expected: { address: 'apiserver:7000', tls: { caPem: 'OTHER CA', certPem: 'CERT', keyPem: 'KEY' }, token: 't2' },
    },
    {
      name: 'a certificate without its key is not used',
      flags: { kubeconfig: '/etc/k/files.conf' },
      expected: { address: 'api.local:443', tls: { caPem: 'FILE CA' }, token: 'file-token' },
    },
    {
      name: '--insecure needs no CA and keeps the token',
      flags: { master: 'https://127.0.0.1:6443', grpcPort: 6444, insecure: true, token: 't' },
      expected: { address: '127.0.0.1:6444', insecure: true, token: 't' },
    },
    {
      name: '--insecure without any token',
      flags: { master: '127.0.0.1:6444', insecure: true },
      expected: { address: '127.0.0.1:6444', insecure: true },
    },
  ];
  test.each(cases)('$name', ({ flags, expected }) => {
    expect(loadClientConfig(flags, read)).toEqual(expected);
  });

  test.each([
    [{}, ClientConnectionError, 'no API server: give --kubeconfig or --master'],
    [{ master: 'h:1' }, ClientConnectionError, 'no cluster CA: give --ca-file'],
    [{ kubeconfig: '/missing' }, ClientConnectionError, '--kubeconfig: cannot read /missing'],
    [{ master: 'h:1', caFile: '/missing.pem' }, ClientConnectionError, '--ca-file: cannot read /missing.pem'],
    [{ master: 'https://bad host:1' }, ClientConnectionError, 'invalid API server address'],
    [{ kubeconfig: '/etc/k/broken-ca.conf' }, KubeconfigError, 'certificate-authority: cannot read'],
  ] as [ClientConnectionFlags, typeof Error, string][])('refuses %j', (flags, type, message) => {
    expect(() => loadClientConfig(flags, read)).toThrow(type);
    expect(() => loadClientConfig(flags, read)).toThrow(message);
  });
});
