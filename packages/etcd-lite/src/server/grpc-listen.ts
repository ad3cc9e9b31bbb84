// Binding gRPC servers to etcd-style listen URLs (http://host:port), for the
// client API and for peer traffic.

import * as grpc from '@grpc/grpc-js';
import { ListenUrlError } from './lifecycle-errors';

/** host:port of an http:// listen URL; https and unix sockets are not served. */
export function listenTarget(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ListenUrlError(url, 'not a valid URL');
  }
  if (parsed.protocol !== 'http:') throw new ListenUrlError(url, 'only http:// is supported (no TLS, no unix sockets)');
  if (!/^[a-z]+:\/\/[^/?#]*:\d+(?:[/?#]|$)/i.test(url)) throw new ListenUrlError(url, 'the port is missing');
  return `${parsed.hostname}:${parsed.port}`;
}

/** Binds `server` to every URL; resolves to the URLs served, with a port 0 replaced by the bound port. */
export async function bindAll(server: grpc.Server, urls: readonly string[]): Promise<string[]> {
  const served: string[] = [];
  for (const url of urls) {
    const target = listenTarget(url);
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
        error ? reject(new ListenUrlError(url, error.message, { cause: error })) : resolve(boundPort),
      );
    });
    const host = target.slice(0, target.lastIndexOf(':'));
    served.push(`http://${host}:${port}`);
  }
  return served;
}

/** A server for the peer URLs: the Raft transport and the member-to-member requests register on it. */
export async function bindPeerServer(urls: readonly string[], register: (server: grpc.Server) => void, maxMessageBytes: number): Promise<grpc.Server> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    // Peers ping every 10 s to detect dead hosts; allow it.
    'grpc.keepalive_permit_without_calls': 1,
  });
  register(server);
  try {
    await bindAll(server, urls);
  } catch (error) {
    server.forceShutdown();
    throw error;
  }
  return server;
}
