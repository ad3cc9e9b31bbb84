// Reads what kube-proxy needs from a kubeconfig: the current context's
// server, CA and credentials. The same shape the scheduler reads (components
// do not import each other; a shared reader belongs in @kube-lite/client).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface KubeconfigConnection {
  /** The cluster's server URL, e.g. https://127.0.0.1:6443. */
  server: string;
  caPem: string | undefined;
  token: string | undefined;
  clientCertificatePem: string | undefined;
  clientKeyPem: string | undefined;
}

/** The kubeconfig is missing, unreadable or lacks what is needed; the message names the file and the field. */
export class KubeconfigError extends Error {
  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(`kubeconfig ${path}: ${detail}`, options);
    this.name = 'KubeconfigError';
  }
}

type Named<T> = { name?: string } & T;

function decode(base64: unknown): string | undefined {
  return typeof base64 === 'string' && base64 !== '' ? Buffer.from(base64, 'base64').toString('utf8') : undefined;
}

function readText(path: unknown, kubeconfigPath: string, field: string): string | undefined {
  if (typeof path !== 'string' || path === '') return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new KubeconfigError(kubeconfigPath, `${field}: cannot read ${path}`, { cause: error });
  }
}

export function parseKubeconfig(text: string, path = 'kubeconfig'): KubeconfigConnection {
  let document: Record<string, unknown>;
  try {
    document = (parseYaml(text) ?? {}) as Record<string, unknown>;
  } catch (error) {
    throw new KubeconfigError(path, `not valid YAML: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const contexts = (document.contexts ?? []) as Named<{ context?: { cluster?: string; user?: string } }>[];
  const clusters = (document.clusters ?? []) as Named<{ cluster?: Record<string, unknown> }>[];
  const users = (document.users ?? []) as Named<{ user?: Record<string, unknown> }>[];
  const currentName = document['current-context'];
  const context = contexts.find((candidate) => candidate.name === currentName) ?? (contexts.length === 1 ? contexts[0] : undefined);
  if (!context?.context) throw new KubeconfigError(path, `current-context ${JSON.stringify(currentName ?? '')} not found in contexts`);
  const cluster = clusters.find((candidate) => candidate.name === context.context?.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string') throw new KubeconfigError(path, `cluster ${JSON.stringify(context.context.cluster ?? '')} with a server not found`);
  const user = users.find((candidate) => candidate.name === context.context?.user)?.user ?? {};
  return {
    server: cluster.server,
    caPem: decode(cluster['certificate-authority-data']) ?? readText(cluster['certificate-authority'], path, 'certificate-authority'),
    token: (typeof user.token === 'string' ? user.token : undefined) ?? readText(user.tokenFile, path, 'tokenFile')?.trim(),
    clientCertificatePem: decode(user['client-certificate-data']) ?? readText(user['client-certificate'], path, 'client-certificate'),
    clientKeyPem: decode(user['client-key-data']) ?? readText(user['client-key'], path, 'client-key'),
  };
}

export function readKubeconfig(path: string): KubeconfigConnection {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KubeconfigError(path, 'cannot be read', { cause: error });
  }
  return parseKubeconfig(text, path);
}

/** "host:port" from a server URL or a bare address ("https://10.0.0.1:6443" -> "10.0.0.1:6443"). */
export function addressOf(server: string): string {
  if (!server.includes('://')) return server;
  const url = new URL(server);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}
