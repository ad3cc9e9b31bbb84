// Reads one kubelet's /stats/summary the way the API server reaches kubelets
// for logs and exec: the address from the Node (InternalIP, then Hostname;
// status.daemonEndpoints.kubeletEndpoint.Port), https with the API server's
// own client certificate (or plain http for local test clusters).

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Node } from '@kube-lite/api';
import { decodeSummary, type NodeSummary } from './summary';

export interface KubeletConnection {
  /** https as upstream (the kubelet's port 10250), or http (tests, local clusters). */
  scheme: 'http' | 'https';
  /** Port used when the Node does not report one. */
  defaultPort: number;
  /** PEM certificate and key presented to kubelets over https. */
  clientCertificate?: { certificatePem: string; privateKeyPem: string };
}

/** Where a node's kubelet listens. */
export interface KubeletAddress {
  nodeName: string;
  host: string;
  port: number;
}

/** The kubelet could not be reached, answered an error status, or sent something unreadable. */
export class KubeletScrapeError extends Error {
  override readonly name = 'KubeletScrapeError';
}

/** A summary bigger than this is refused: a bound on what one misbehaving kubelet can make us buffer. */
export const MAX_SUMMARY_BYTES = 32 * 1024 * 1024;

export function kubeletAddressOf(node: Node, defaultPort: number): KubeletAddress {
  const nodeName = node.metadata?.name ?? '';
  const addresses = node.status?.addresses ?? [];
  const host = addresses.find((address) => address.type === 'InternalIP')?.address ?? addresses.find((address) => address.type === 'Hostname')?.address ?? nodeName;
  const reported = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return { nodeName, host, port: typeof reported === 'number' && reported > 0 ? reported : defaultPort };
}

/**
 * One keep-alive agent per connection setting: every scrape cycle reuses its
 * TLS session and socket per kubelet instead of building a TLS context and a
 * handshake per node per cycle (which a thousand nodes turn into real CPU).
 */
const agents = new WeakMap<KubeletConnection, HttpAgent>();

function agentFor(connection: KubeletConnection): HttpAgent {
  let agent = agents.get(connection);
  if (agent === undefined) {
    agent =
      connection.scheme === 'https'
        ? new HttpsAgent({
            keepAlive: true,
            maxFreeSockets: 1,
            // As for logs and exec: kubelet serving certificates are not verified without a kubelet CA.
            rejectUnauthorized: false,
            ...(connection.clientCertificate === undefined ? {} : { cert: connection.clientCertificate.certificatePem, key: connection.clientCertificate.privateKeyPem }),
          })
        : new HttpAgent({ keepAlive: true, maxFreeSockets: 1 });
    agents.set(connection, agent);
  }
  return agent;
}

/** GET /stats/summary?only_cpu_and_memory=true from one kubelet, within timeoutMs. */
export function scrapeKubelet(address: KubeletAddress, connection: KubeletConnection, timeoutMs: number): Promise<NodeSummary> {
  const send = connection.scheme === 'https' ? httpsRequest : httpRequest;
  const where = `the kubelet of node "${address.nodeName}" at ${address.host}:${address.port}`;
  return new Promise<NodeSummary>((resolve, reject) => {
    const outgoing = send(
      { host: address.host, port: address.port, method: 'GET', path: '/stats/summary?only_cpu_and_memory=true', headers: { accept: 'application/json' }, agent: agentFor(connection) },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_SUMMARY_BYTES) {
            outgoing.destroy(new KubeletScrapeError(`${where} sent a summary over ${MAX_SUMMARY_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 200) {
            reject(new KubeletScrapeError(`${where} answered ${response.statusCode ?? 0} to /stats/summary: ${body.slice(0, 200).trim()}`));
            return;
          }
          try {
            resolve(decodeSummary(address.nodeName, JSON.parse(body)));
          } catch (cause) {
            reject(new KubeletScrapeError(`${where} sent an unreadable summary: ${cause instanceof Error ? cause.message : String(cause)}`, { cause }));
          }
        });
        response.on('error', (error) => reject(new KubeletScrapeError(`${where}: ${error.message}`, { cause: error })));
      },
    );
    const timer = setTimeout(() => outgoing.destroy(new KubeletScrapeError(`${where} did not answer within ${timeoutMs} ms`)), timeoutMs);
    outgoing.on('close', () => clearTimeout(timer));
    outgoing.on('error', (error) => reject(error instanceof KubeletScrapeError ? error : new KubeletScrapeError(`unable to reach ${where}: ${error.message}`, { cause: error })));
    outgoing.end();
  });
}
