// Writes a kubeconfig that the real kubectl (and our own clients) can use to
// reach this server: the cluster CA inline, a bearer token or client
// certificate, one context made current.

import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  /** The server URL, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** PEM of the CA that signed the serving certificate. */
  caPem: string;
  /** The user entry's name (also used for the context). */
  user: string;
  /** A bearer token from the token file; give this or a client certificate. */
  token?: string;
  clientCertificatePem?: string;
  clientKeyPem?: string;
  /** Cluster and context name; defaults to `kube-lite`. */
  clusterName?: string;
  /** The context's default namespace; defaults to `default`. */
  namespace?: string;
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** The kubeconfig document as YAML text. */
export function renderKubeconfig(options: KubeconfigOptions): string {
  const clusterName = options.clusterName ?? 'kube-lite';
  const contextName = `${options.user}@${clusterName}`;
  const user: Record<string, string> = {};
  if (options.token !== undefined) user.token = options.token;
  if (options.clientCertificatePem !== undefined) user['client-certificate-data'] = base64(options.clientCertificatePem);
  if (options.clientKeyPem !== undefined) user['client-key-data'] = base64(options.clientKeyPem);
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: clusterName, cluster: { server: options.server, 'certificate-authority-data': base64(options.caPem) } }],
    users: [{ name: options.user, user }],
    contexts: [{ name: contextName, context: { cluster: clusterName, user: options.user, namespace: options.namespace ?? 'default' } }],
    'current-context': contextName,
    preferences: {},
  });
}

/** Writes the kubeconfig readable by its owner only (it holds a credential), replacing any previous file atomically. */
export function writeKubeconfig(path: string, options: KubeconfigOptions): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporaryPath = `${path}.tmp-${process.pid}`;
  writeFileSync(temporaryPath, renderKubeconfig(options), { mode: 0o600 });
  renameSync(temporaryPath, path);
}
