// The cluster's PKI: a self-signed CA and the API server's serving certificate,
// generated into --cert-dir on first start and reused afterwards (kubeconfigs
// carry the CA, so regenerating it would lock every client out). The serving
// certificate is reissued from the same CA when it nears expiry or lacks a
// required name. Keys come from node's crypto; node-forge builds and signs
// the X.509 certificates.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';

/** Certificates or keys in --cert-dir are unreadable or do not belong together. */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface KeyPairPem {
  certificatePem: string;
  privateKeyPem: string;
}

export interface ClusterCertificates {
  ca: KeyPairPem;
  serving: KeyPairPem;
  /** Where each file lives in the cert dir. */
  paths: { caCertificate: string; caKey: string; servingCertificate: string; servingKey: string };
}

export interface EnsureCertificatesOptions {
  /** Directory holding ca.crt, ca.key, apiserver.crt, apiserver.key; created if missing. */
  certDir: string;
  /** Extra DNS names and IP addresses for the serving certificate (the advertise address, the first service IP). */
  subjectAltNames: readonly string[];
  /** Injected clock for expiry decisions (tests). */
  now?: () => Date;
}

const caValidityDays = 3650;
const servingValidityDays = 365;
/** A serving certificate expiring sooner than this is reissued on start. */
const renewBeforeExpiryMs = 30 * 24 * 3600 * 1000;
const clockSkewMs = 3600 * 1000;

/** Names every serving certificate carries, whatever the flags: how in-cluster and local clients reach the server. */
export const DEFAULT_SERVING_NAMES: readonly string[] = [
  '127.0.0.1',
  'localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

function generateRsaKey(): { forgeKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem);
  return { forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

function randomSerialHex(): string {
  const bytes = randomBytes(16);
  // A positive serial: clear the top bit so DER does not read it as negative.
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

function validity(certificate: forge.pki.Certificate, now: Date, days: number): void {
  certificate.validity.notBefore = new Date(now.getTime() - clockSkewMs);
  certificate.validity.notAfter = new Date(now.getTime() + days * 24 * 3600 * 1000);
}

function altName(value: string): { type: number; value?: string; ip?: string } {
  return isIP(value) !== 0 ? { type: 7, ip: value } : { type: 2, value };
}

/** A new self-signed cluster CA. */
export function createCertificateAuthority(commonName = 'kube-lite-ca', now = new Date()): KeyPairPem {
  const key = generateRsaKey();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = key.publicKey;
  certificate.serialNumber = randomSerialHex();
  validity(certificate, now, caValidityDays);
  const subject = [{ name: 'commonName', value: commonName }];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  certificate.sign(key.forgeKey, forge.md.sha256.create());
  return { certificatePem: forge.pki.certificateToPem(certificate), privateKeyPem: key.pem };
}

export interface IssueOptions {
  commonName: string;
  /** Subject O values; for client certificates these are the user's groups. */
  organizations?: readonly string[];
  /** DNS names and IP addresses (serving certificates). */
  subjectAltNames?: readonly string[];
  usage: 'server' | 'client';
  validityDays?: number;
  now?: Date;
}

/** Issues a leaf certificate signed by the CA. Client certificates authenticate as CN with groups O. */
export function issueCertificate(ca: KeyPairPem, options: IssueOptions): KeyPairPem {
  const caCertificate = forge.pki.certificateFromPem(ca.certificatePem);
  const caKey = forge.pki.privateKeyFromPem(ca.privateKeyPem);
  const key = generateRsaKey();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = key.publicKey;
  certificate.serialNumber = randomSerialHex();
  validity(certificate, options.now ?? new Date(), options.validityDays ?? servingValidityDays);
  certificate.setSubject([
    { name: 'commonName', value: options.commonName },
    ...(options.organizations ?? []).map((organization) => ({ name: 'organizationName', value: organization })),
  ]);
  certificate.setIssuer(caCertificate.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: options.usage === 'server', clientAuth: options.usage === 'client' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCertificate.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (options.subjectAltNames !== undefined && options.subjectAltNames.length > 0) {
    extensions.push({ name: 'subjectAltName', altNames: options.subjectAltNames.map(altName) });
  }
  certificate.setExtensions(extensions);
  certificate.sign(caKey, forge.md.sha256.create());
  return { certificatePem: forge.pki.certificateToPem(certificate), privateKeyPem: key.pem };
}

/** The DNS names and IPs a certificate covers. */
export function subjectAltNamesOf(certificatePem: string): string[] {
  const certificate = forge.pki.certificateFromPem(certificatePem);
  const extension = certificate.getExtension('subjectAltName') as { altNames?: Array<{ type: number; value?: string; ip?: string }> } | undefined;
  return (extension?.altNames ?? []).map((name) => (name.type === 7 ? (name.ip ?? '') : (name.value ?? '')));
}

/** Signed by the CA, not about to expire, covering requiredNames, and matching its key. */
function certificateUsable(ca: KeyPairPem, serving: KeyPairPem, requiredNames: readonly string[], now: Date): boolean {
  try {
    const caCertificate = forge.pki.certificateFromPem(ca.certificatePem);
    const certificate = forge.pki.certificateFromPem(serving.certificatePem);
    if (!caCertificate.verify(certificate)) return false;
    if (certificate.validity.notAfter.getTime() - now.getTime() < renewBeforeExpiryMs) return false;
    const present = new Set(subjectAltNamesOf(serving.certificatePem));
    if (!requiredNames.every((name) => present.has(name))) return false;
    // The key must match the certificate, or TLS fails at the first handshake.
    const key = forge.pki.privateKeyFromPem(serving.privateKeyPem);
    const publicKey = certificate.publicKey as forge.pki.rsa.PublicKey;
    return key.n.equals(publicKey.n) && key.e.equals(publicKey.e);
  } catch {
    return false;
  }
}

function writePrivate(path: string, text: string, mode: number): void {
  const temporaryPath = `${path}.tmp-${process.pid}`;
  writeFileSync(temporaryPath, text, { mode });
  renameSync(temporaryPath, path);
}

function readPair(certificatePath: string, keyPath: string): KeyPairPem | undefined {
  if (!existsSync(certificatePath) || !existsSync(keyPath)) return undefined;
  try {
    return { certificatePem: readFileSync(certificatePath, 'utf8'), privateKeyPem: readFileSync(keyPath, 'utf8') };
  } catch (cause) {
    throw new CertificateError(`cannot read ${certificatePath} or ${keyPath}: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Loads the CA and serving certificate from `certDir`, creating what is missing. The serving certificate covers
 * DEFAULT_SERVING_NAMES plus `subjectAltNames`; it is reissued when it lacks one of them, expires within 30 days,
 * or was not signed by the CA found there.
 */
export function ensureCertificates(options: EnsureCertificatesOptions): ClusterCertificates {
  const now = (options.now ?? (() => new Date()))();
  mkdirSync(options.certDir, { recursive: true, mode: 0o700 });
  const paths = {
    caCertificate: join(options.certDir, 'ca.crt'),
    caKey: join(options.certDir, 'ca.key'),
    servingCertificate: join(options.certDir, 'apiserver.crt'),
    servingKey: join(options.certDir, 'apiserver.key'),
  };
  let ca = readPair(paths.caCertificate, paths.caKey);
  if (ca === undefined) {
    ca = createCertificateAuthority('kube-lite-ca', now);
    writePrivate(paths.caKey, ca.privateKeyPem, 0o600);
    writePrivate(paths.caCertificate, ca.certificatePem, 0o644);
  } else {
    try {
      forge.pki.certificateFromPem(ca.certificatePem);
      forge.pki.privateKeyFromPem(ca.privateKeyPem);
    } catch (cause) {
      throw new CertificateError(`${paths.caCertificate} or ${paths.caKey} is not a PEM certificate/RSA key: ${(cause as Error).message}`, { cause });
    }
  }
  const names = [...new Set([...DEFAULT_SERVING_NAMES, ...options.subjectAltNames.filter((name) => name !== '')])];
  let serving = readPair(paths.servingCertificate, paths.servingKey);
  if (serving === undefined || !certificateUsable(ca, serving, names, now)) {
    serving = issueCertificate(ca, { commonName: 'kube-apiserver', subjectAltNames: names, usage: 'server', now });
    writePrivate(paths.servingKey, serving.privateKeyPem, 0o600);
    writePrivate(paths.servingCertificate, serving.certificatePem, 0o644);
  }
  return { ca, serving, paths };
}

/** The user kubelets see when the API server proxies to them (upstream's kubeadm name). */
export const KUBELET_CLIENT_COMMON_NAME = 'kube-apiserver-kubelet-client';

/**
 * The client certificate the API server presents to kubelets, kept in
 * certDir as apiserver-kubelet-client.crt/.key and reissued from the CA when
 * missing, expiring within 30 days or not signed by it. It carries no groups:
 * kubelets only need to know the caller holds a certificate of the cluster
 * CA, and the same certificate grants nothing on the API server itself.
 */
export function ensureKubeletClientCertificate(certDir: string, ca: KeyPairPem, now = new Date()): KeyPairPem & { paths: { certificate: string; key: string } } {
  const paths = { certificate: join(certDir, 'apiserver-kubelet-client.crt'), key: join(certDir, 'apiserver-kubelet-client.key') };
  let pair = readPair(paths.certificate, paths.key);
  if (pair === undefined || !certificateUsable(ca, pair, [], now)) {
    pair = issueCertificate(ca, { commonName: KUBELET_CLIENT_COMMON_NAME, usage: 'client', now });
    writePrivate(paths.key, pair.privateKeyPem, 0o600);
    writePrivate(paths.certificate, pair.certificatePem, 0o644);
  }
  return { ...pair, paths };
}
