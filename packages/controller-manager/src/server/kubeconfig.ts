// The parts of a kubeconfig the manager needs: the current context's server,
// cluster CA and credentials (the file kube-apiserver --kubeconfig-out writes,
// or kubectl's).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export interface KubeconfigConnection {
  /** The cluster's server, e.g. https://127.0.0.1:6443. */
  server: string;
  caPem: string | undefined;
  token: string | undefined;
  clientCertificatePem: string | undefined;
  clientKeyPem: string | undefined;
}

/** The kubeconfig is missing, unreadable or lacks what is needed; the message names the file and the field. */
export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(`kubeconfig ${path}: ${detail}`, options);
  }
}

type Named<T> = { name?: string } & T;

function decode(base64: unknown): string | undefined {
  return typeof base64 === 'string' && base64 !== '' ? Buffer.from(base64, 'base64').toString('utf8') : undefined;
}

function readText(path: unknown, kubeconfigPath: string, field: string, readFile: (path: string) => string): string | undefined {
  if (typeof path !== 'string' || path === '') return undefined;
  try {
    return readFile(path);
  } catch (error) {
    throw new KubeconfigError(kubeconfigPath, `${field}: cannot read ${path}`, { cause: error });
  }
}

export function parseKubeconfig(text: string, path = 'kubeconfig', readFile: (path: string) => string = (file) => readFileSync(file, 'utf8')): KubeconfigConnection {
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
    caPem: decode(cluster['certificate-authority-data']) ?? readText(cluster['certificate-authority'], path, 'certificate-authority', readFile),
    token: (typeof user.token === 'string' ? user.token : undefined) ?? readText(user.tokenFile, path, 'tokenFile', readFile)?.trim(),
    clientCertificatePem: decode(user['client-certificate-data']) ?? readText(user['client-certificate'], path, 'client-certificate', readFile),
    clientKeyPem: decode(user['client-key-data']) ?? readText(user['client-key'], path, 'client-key', readFile),
  };
}

/** "host:port" from a server URL or a bare address ("https://10.0.0.1:6443" -> "10.0.0.1:6443"); `portOverride` replaces the port. */
export function grpcAddressOf(server: string, portOverride?: number): string {
  let host: string;
  let port: string;
  if (server.includes('://')) {
    const url = new URL(server);
    host = url.hostname;
    port = url.port || (url.protocol === 'https:' ? '443' : '80');
  } else {
    const colon = server.lastIndexOf(':');
    host = colon < 0 ? server : server.slice(0, colon);
    port = colon < 0 ? '443' : server.slice(colon + 1);
  }
  return `${host}:${portOverride ?? port}`;
}
