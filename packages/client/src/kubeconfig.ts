// How a component finds and authenticates to the API server, shared by every
// binary so that their --kubeconfig, --master, --token, --ca-file, --insecure
// and --apiserver-grpc-port flags mean the same thing everywhere:
//
//   address: --master if given, else the kubeconfig's server; a URL becomes
//            host:port, and grpcPort replaces the port (a kubeconfig names the
//            HTTPS port; the gRPC front end usually listens on another).
//   CA:      --ca-file, else the kubeconfig's certificate-authority(-data).
//   token:   --token, else the kubeconfig user's token (or tokenFile).
//   client certificate: the kubeconfig user's, when it has both cert and key.
//   insecure: plaintext, for development only (no CA needed).
//
// Only the current context is read; a file with a single context is read
// whatever current-context says (component kubeconfigs are often written by
// hand with one context).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { GrpcApiClientOptions } from './grpc/grpc-api-client';

/** What a kubeconfig's current context says about the cluster and the user. */
export interface KubeconfigCredentials {
  /** The cluster's server, e.g. https://127.0.0.1:6443. */
  server: string;
  /** PEM of the cluster CA (inline data or the file it names). */
  caPem: string | undefined;
  /** Bearer token (inline, or the trimmed content of tokenFile). */
  token: string | undefined;
  clientCertificatePem: string | undefined;
  clientKeyPem: string | undefined;
  /** The cluster entry asks not to verify the server (read, not honoured by the gRPC client). */
  insecureSkipTlsVerify: boolean;
}

/** The kubeconfig is unreadable, not YAML, or lacks what is needed; the message names the file and the field. */
export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
  constructor(path: string, detail: string, options?: { cause?: unknown }) {
    super(`kubeconfig ${path}: ${detail}`, options);
  }
}

/** The connection flags do not add up (no server, no CA, an unreadable --ca-file); the message names the flag. */
export class ClientConnectionError extends Error {
  override readonly name = 'ClientConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Reads a file as UTF-8; replaced in tests. */
export type ReadTextFile = (path: string) => string;

const readUtf8: ReadTextFile = (path) => readFileSync(path, 'utf8');

type Named<T> = { name?: string } & T;

function decodeBase64(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? Buffer.from(value, 'base64').toString('utf8') : undefined;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function parseKubeconfig(text: string, path = 'kubeconfig', readFile: ReadTextFile = readUtf8): KubeconfigCredentials {
  let document: unknown;
  try {
    document = parseYaml(text) ?? {};
  } catch (error) {
    throw new KubeconfigError(path, `not valid YAML: ${errorText(error)}`, { cause: error });
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new KubeconfigError(path, 'not a kubeconfig (expected a mapping with clusters, users and contexts)');
  const fields = document as Record<string, unknown>;
  const list = <T>(key: string): Named<T>[] => (Array.isArray(fields[key]) ? (fields[key] as Named<T>[]) : []);
  const contexts = list<{ context?: { cluster?: string; user?: string } }>('contexts');
  const clusters = list<{ cluster?: Record<string, unknown> }>('clusters');
  const users = list<{ user?: Record<string, unknown> }>('users');
  const currentName = fields['current-context'];
  const context = contexts.find((candidate) => candidate.name === currentName) ?? (contexts.length === 1 ? contexts[0] : undefined);
  if (!context?.context) throw new KubeconfigError(path, `current-context ${JSON.stringify(currentName ?? '')} not found in contexts`);
  const cluster = clusters.find((candidate) => candidate.name === context.context?.cluster)?.cluster;
  if (!cluster || typeof cluster.server !== 'string' || cluster.server === '') throw new KubeconfigError(path, `cluster ${JSON.stringify(context.context.cluster ?? '')} with a server not found in clusters`);
  const user = users.find((candidate) => candidate.name === context.context?.user)?.user ?? {};
  const fromFile = (value: unknown, field: string): string | undefined => {
    if (typeof value !== 'string' || value === '') return undefined;
    try {
      return readFile(value);
    } catch (error) {
      throw new KubeconfigError(path, `${field}: cannot read ${value}: ${errorText(error)}`, { cause: error });
    }
  };
  return {
    server: cluster.server,
    caPem: decodeBase64(cluster['certificate-authority-data']) ?? fromFile(cluster['certificate-authority'], 'certificate-authority'),
    token: (typeof user.token === 'string' && user.token !== '' ? user.token : undefined) ?? fromFile(user.tokenFile, 'tokenFile')?.trim(),
    clientCertificatePem: decodeBase64(user['client-certificate-data']) ?? fromFile(user['client-certificate'], 'client-certificate'),
    clientKeyPem: decodeBase64(user['client-key-data']) ?? fromFile(user['client-key'], 'client-key'),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

export function readKubeconfig(path: string, readFile: ReadTextFile = readUtf8): KubeconfigCredentials {
  let text: string;
  try {
    text = readFile(path);
  } catch (error) {
    throw new KubeconfigError(path, `cannot be read: ${errorText(error)}`, { cause: error });
  }
  return parseKubeconfig(text, path, readFile);
}

/** "host:port" from a server URL or address ("https://10.0.0.1:6443" -> "10.0.0.1:6443", "https://api" -> "api:443"); `portOverride` replaces the port. */
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

/** The connection flags every component accepts; all optional. */
export interface ClientConnectionFlags {
  /** --kubeconfig: file with the server, CA and credentials. */
  kubeconfig?: string | undefined;
  /** --master (or --server): the API server address, host:port or URL; wins over the kubeconfig's server. */
  master?: string | undefined;
  /** --token: bearer token; wins over the kubeconfig's. */
  token?: string | undefined;
  /** --ca-file: PEM file of the cluster CA; wins over the kubeconfig's. */
  caFile?: string | undefined;
  /** --insecure: plaintext gRPC, for development and tests only. */
  insecure?: boolean | undefined;
  /** --apiserver-grpc-port: replaces the port of the address (kubeconfigs name the HTTPS port). */
  grpcPort?: number | undefined;
}

/** Turns the connection flags into GrpcApiClient options; throws KubeconfigError or ClientConnectionError naming what is wrong. */
export function loadClientConfig(flags: ClientConnectionFlags, readFile: ReadTextFile = readUtf8): GrpcApiClientOptions {
  let kubeconfig: KubeconfigCredentials | undefined;
  if (flags.kubeconfig !== undefined) {
    let text: string;
    try {
      text = readFile(flags.kubeconfig);
    } catch (error) {
      throw new ClientConnectionError(`--kubeconfig: cannot read ${flags.kubeconfig}: ${errorText(error)}`, { cause: error });
    }
    kubeconfig = parseKubeconfig(text, flags.kubeconfig, readFile);
  }
  const server = flags.master ?? kubeconfig?.server;
  if (server === undefined || server === '') throw new ClientConnectionError('no API server: give --kubeconfig or --master');
  let address: string;
  try {
    address = grpcAddressOf(server, flags.grpcPort);
  } catch (error) {
    throw new ClientConnectionError(`invalid API server address "${server}": use host:port or a URL such as https://127.0.0.1:6443`, { cause: error });
  }
  const token = flags.token ?? kubeconfig?.token;
  const withToken = token === undefined ? {} : { token };
  if (flags.insecure === true) return { address, insecure: true, ...withToken };
  let caPem = kubeconfig?.caPem;
  if (flags.caFile !== undefined) {
    try {
      caPem = readFile(flags.caFile);
    } catch (error) {
      throw new ClientConnectionError(`--ca-file: cannot read ${flags.caFile}: ${errorText(error)}`, { cause: error });
    }
  }
  if (caPem === undefined) throw new ClientConnectionError('no cluster CA: give --ca-file, a --kubeconfig with certificate-authority(-data), or --insecure for a plaintext development server');
  const tls: NonNullable<GrpcApiClientOptions['tls']> = { caPem };
  if (kubeconfig?.clientCertificatePem !== undefined && kubeconfig.clientKeyPem !== undefined) {
    tls.certPem = kubeconfig.clientCertificatePem;
    tls.keyPem = kubeconfig.clientKeyPem;
  }
  return { address, tls, ...withToken };
}
