// TEST-ONLY: an HTTPS proxy in front of the API server that remembers every
// request body kubectl sends, so tests can see that a command really took the
// protobuf path and can keep its bytes as golden files.

import { once } from 'node:events';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  /** 0 for the first request the proxy saw, then 1, 2...: stays valid when old entries are dropped. */
  sequence: number;
  method: string;
  path: string;
  contentType: string;
  body: Buffer;
}

export interface RecordingProxy {
  /** `https://127.0.0.1:port`; the serving certificate is the API server's own, so kubectl trusts it. */
  url: string;
  /** Requests seen so far, oldest first (bounded: the oldest are dropped past 1000). */
  requests: RecordedRequest[];
  /** The sequence number the next request will get. */
  nextSequence(): number;
  stop(): Promise<void>;
}

const MAX_RECORDED_REQUESTS = 1000;

export async function startRecordingProxy(options: { targetUrl: string; caPem: string; certificatePem: string; privateKeyPem: string }): Promise<RecordingProxy> {
  const target = new URL(options.targetUrl);
  const requests: RecordedRequest[] = [];
  let sequence = 0;
  const agent = new https.Agent({ ca: options.caPem, keepAlive: true });
  const server = https.createServer({ cert: options.certificatePem, key: options.privateKeyPem }, (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ sequence: sequence++, method: request.method ?? '', path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body });
      if (requests.length > MAX_RECORDED_REQUESTS) requests.shift();
      const upstream = https.request(
        { hostname: target.hostname, port: target.port, path: request.url, method: request.method, headers: request.headers, agent },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', (error) => {
        response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`proxy: ${error.message}`);
      });
      upstream.end(body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    nextSequence: () => sequence,
    async stop() {
      server.closeAllConnections();
      server.close();
      agent.destroy();
    },
  };
}
