import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CertificateError, createCertificateAuthority, ensureCertificates, ensureKubeletClientCertificate, issueCertificate, subjectAltNamesOf } from './certs';
import { renderKubeconfig } from './kubeconfig';

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'kube-lite-pki-'));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe('ensureCertificates', () => {
  test('first start creates a CA and a serving certificate with every required name', () => {
    const pki = ensureCertificates({ certDir: directory, subjectAltNames: ['192.0.2.10', '10.96.0.1'] });
    const serving = new X509Certificate(pki.serving.certificatePem);
    const ca = new X509Certificate(pki.ca.certificatePem);
    expect(ca.ca).toBe(true);
    expect(serving.checkIssued(ca)).toBe(true);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(subjectAltNamesOf(pki.serving.certificatePem).sort()).toEqual(
      ['127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', '192.0.2.10', '10.96.0.1'].sort(),
    );
    expect(serving.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(serving.checkIP('10.96.0.1')).toBe('10.96.0.1');
    expect(statSync(pki.paths.caKey).mode & 0o777).toBe(0o600);
    expect(statSync(pki.paths.servingKey).mode & 0o777).toBe(0o600);
  });

  test('later starts reuse both; a new advertise address reissues only the serving certificate', () => {
    const first = ensureCertificates({ certDir: directory, subjectAltNames: ['192.0.2.10'] });
    const again = ensureCertificates({ certDir: directory, subjectAltNames: ['192.0.2.10'] });
    expect(again.ca.certificatePem).toBe(first.ca.certificatePem);
    expect(again.serving.certificatePem).toBe(first.serving.certificatePem);
    const moved = ensureCertificates({ certDir: directory, subjectAltNames: ['192.0.2.99'] });
    expect(moved.ca.certificatePem).toBe(first.ca.certificatePem);
    expect(moved.serving.certificatePem).not.toBe(first.serving.certificatePem);
    expect(subjectAltNamesOf(moved.serving.certificatePem)).toContain('192.0.2.99');
  });

  test('a serving certificate close to expiry is reissued', () => {
    const first = ensureCertificates({ certDir: directory, subjectAltNames: [] });
    const inElevenMonths = new Date(Date.now() + 340 * 24 * 3600 * 1000);
    const later = ensureCertificates({ certDir: directory, subjectAltNames: [], now: () => inElevenMonths });
    expect(later.serving.certificatePem).not.toBe(first.serving.certificatePem);
    expect(later.ca.certificatePem).toBe(first.ca.certificatePem);
  });

  test('a corrupt CA is an error naming the file, not a silent new CA', () => {
    ensureCertificates({ certDir: directory, subjectAltNames: [] });
    writeFileSync(join(directory, 'ca.crt'), 'garbage');
    expect(() => ensureCertificates({ certDir: directory, subjectAltNames: [] })).toThrow(CertificateError);
    expect(() => ensureCertificates({ certDir: directory, subjectAltNames: [] })).toThrow(join(directory, 'ca.crt'));
  });

  test('client certificates carry CN and O and chain to the CA', () => {
    const pki = ensureCertificates({ certDir: directory, subjectAltNames: [] });
    const client = issueCertificate(pki.ca, { commonName: 'system:node:n1', organizations: ['system:nodes'], usage: 'client' });
    const certificate = new X509Certificate(client.certificatePem);
    expect(certificate.subject).toBe('CN=system:node:n1\nO=system:nodes');
    expect(certificate.verify(new X509Certificate(pki.ca.certificatePem).publicKey)).toBe(true);
  });
});

describe('ensureKubeletClientCertificate', () => {
  test('issues a group-less client certificate from the CA once, and again only for a different CA', () => {
    const pki = ensureCertificates({ certDir: directory, subjectAltNames: [] });
    const first = ensureKubeletClientCertificate(directory, pki.ca);
    const certificate = new X509Certificate(first.certificatePem);
    expect(certificate.subject).toBe('CN=kube-apiserver-kubelet-client');
    expect(certificate.verify(new X509Certificate(pki.ca.certificatePem).publicKey)).toBe(true);
    expect(certificate.keyUsage).toContain('1.3.6.1.5.5.7.3.2');
    expect(statSync(first.paths.key).mode & 0o777).toBe(0o600);
    expect(ensureKubeletClientCertificate(directory, pki.ca).certificatePem).toBe(first.certificatePem);
    const otherCa = createCertificateAuthority('other-ca');
    const reissued = ensureKubeletClientCertificate(directory, otherCa);
    expect(reissued.certificatePem).not.toBe(first.certificatePem);
    expect(new X509Certificate(reissued.certificatePem).verify(new X509Certificate(otherCa.certificatePem).publicKey)).toBe(true);
  });
});

describe('renderKubeconfig', () => {
  test('embeds the CA, the token and a current context', () => {
    const text = renderKubeconfig({ server: 'https://127.0.0.1:6443', caPem: 'PEM', user: 'admin', token: 't0k' });
    expect(parseYaml(text)).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'kube-lite', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': Buffer.from('PEM').toString('base64') } }],
      users: [{ name: 'admin', user: { token: 't0k' } }],
      contexts: [{ name: 'admin@kube-lite', context: { cluster: 'kube-lite', user: 'admin', namespace: 'default' } }],
      'current-context': 'admin@kube-lite',
      preferences: {},
    });
  });
});
