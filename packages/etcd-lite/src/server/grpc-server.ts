// The client-facing gRPC server: etcd's v3 services (KV, Watch, Lease,
// Cluster, Maintenance). Each --listen-client-urls address is a plain TCP
// listener whose connections reach the gRPC server through a connection
// injector: the socket itself, or a wrapper that fixes what Node's HTTP/2
// refuses (client-connection.ts, authority-rewrite.ts).

import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { loadEtcdPackageDefinition } from '../etcdpb/load';
import { acceptClientConnection } from './client-connection';
import type { EtcdServer } from './etcd-server';
import { clusterService } from './grpc-cluster';
import { kvService } from './grpc-kv';
import { kvServiceDefinition, watchServiceDefinition } from './grpc-codec';
import { leaseService } from './grpc-lease';
import { listenTarget } from './grpc-listen';
import { maintenanceService } from './grpc-maintenance';
import { watchService } from './grpc-watch';
import { ListenUrlError } from './lifecycle-errors';

/** gRPC framing on top of the largest request, as etcd allows (grpcOverheadBytes). */
const grpcOverheadBytes = 512 * 1024;

export interface ClientServer {
  /** The URLs served, a port 0 replaced by the bound port. */
  urls: string[];
  /** Stops accepting connections, lets calls in progress finish for up to `graceMs`, then closes everything. */
  close(graceMs: number): Promise<void>;
}

export async function startClientServer(server: EtcdServer, urls: readonly string[]): Promise<ClientServer> {
  const definition = loadEtcdPackageDefinition();
  const service = (name: string): grpc.ServiceDefinition => definition[`etcdserverpb.${name}`] as grpc.ServiceDefinition;
  const grpcServer = new grpc.Server({
    'grpc.max_receive_message_length': server.limits.maxRequestBytes + grpcOverheadBytes,
    'grpc.max_send_message_length': 2 ** 31 - 1,
    // etcd clients keep idle connections alive with pings.
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5000,
  });
  grpcServer.addService(kvServiceDefinition(service('KV')), kvService(server));
  grpcServer.addService(watchServiceDefinition(service('Watch')), watchService(server));
  grpcServer.addService(service('Lease'), leaseService(server));
  grpcServer.addService(service('Cluster'), clusterService(server));
  grpcServer.addService(service('Maintenance'), maintenanceService(server));
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const listeners: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const served: string[] = [];
  const closeListeners = (): Promise<void> =>
    Promise.all(listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve())))).then(() => undefined);
  try {
    for (const url of urls) {
      const target = listenTarget(url);
      const host = target.slice(0, target.lastIndexOf(':'));
      const listener = net.createServer((socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
        acceptClientConnection(socket, {
          inject: (connection) => injector.injectConnection(connection),
          onError: (error) => server.logger.warn('closed a client connection', { error }),
        });
      });
      await new Promise<void>((resolve, reject) => {
        listener.once('error', (error) => reject(new ListenUrlError(url, error.message, { cause: error })));
        listener.listen(Number(target.slice(target.lastIndexOf(':') + 1)), host, () => resolve());
      });
      listeners.push(listener);
      served.push(`http://${host}:${(listener.address() as net.AddressInfo).port}`);
    }
  } catch (error) {
    await closeListeners();
    injector.destroy();
    grpcServer.forceShutdown();
    throw error;
  }
  return {
    urls: served,
    close: async (graceMs) => {
      const listenersClosed = closeListeners();
      // Calls in progress may finish; long-lived streams (watches) are cut after graceMs.
      injector.drain(graceMs);
      await new Promise((resolve) => setTimeout(resolve, graceMs).unref());
      injector.destroy();
      grpcServer.forceShutdown();
      for (const socket of sockets) socket.destroy();
      await listenersClosed;
    },
  };
}
