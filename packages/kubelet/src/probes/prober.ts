// Runs one probe or lifecycle handler: an HTTP GET to the pod IP, a TCP
// connect, or a command exec'd in the container (through the runtime).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Container, LifecycleHandler, ProbeHandler } from '@kube-lite/api';
import type { Clock } from '../clock';
import type { ContainerRuntime } from '../runtime/runtime';

export interface ProbeOutcome {
  success: boolean;
  /** Why it failed (or what it answered), for events and status messages. */
  message: string;
}

export interface ProbeTarget {
  podIP: string;
  container: Container;
  containerId: string;
  runtime: ContainerRuntime;
  clock: Clock;
}

/** Runs a handler; resolves with its outcome, never rejects. */
export type HandlerRunner = (handler: ProbeHandler | LifecycleHandler, target: ProbeTarget, timeoutMs: number) => Promise<ProbeOutcome>;

const MAX_OUTPUT_BYTES = 10 * 1024;

function resolvePort(port: number | string, container: Container): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

function withTimeout(work: Promise<ProbeOutcome>, timeoutMs: number, clock: Clock, onTimeout: () => void, what: string): Promise<ProbeOutcome> {
  let timer: { cancel(): void } | undefined;
  const timeout = new Promise<ProbeOutcome>((resolve) => {
    timer = clock.setTimer(() => {
      onTimeout();
      resolve({ success: false, message: `${what} timed out after ${timeoutMs / 1000}s` });
    }, timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => timer?.cancel());
}

function httpGet(action: NonNullable<ProbeHandler['httpGet']>, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(action.port, target.container);
  if (port === undefined) return Promise.resolve({ success: false, message: `port "${action.port}" is not a number nor a named port of container ${target.container.name}` });
  const host = action.host || target.podIP;
  const headers: Record<string, string> = { 'user-agent': 'kube-probe/kube-lite', accept: '*/*' };
  for (const header of action.httpHeaders ?? []) headers[header.name.toLowerCase()] = header.value;
  const client = action.scheme === 'HTTPS' ? https : http;
  const url = `${action.scheme === 'HTTPS' ? 'https' : 'http'}://${host}:${port}${action.path ?? '/'}`;
  let request: http.ClientRequest | undefined;
  const work = new Promise<ProbeOutcome>((resolve) => {
    request = client.get(url, { headers, rejectUnauthorized: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        if (body.length < MAX_OUTPUT_BYTES) body += chunk.toString();
      });
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        const success = status >= 200 && status < 400;
        resolve({ success, message: success ? body : `HTTP probe failed with statuscode: ${status}` });
      });
      response.on('error', (error) => resolve({ success: false, message: `Get "${url}": ${error.message}` }));
    });
    request.on('error', (error) => resolve({ success: false, message: `Get "${url}": ${error.message}` }));
  });
  return withTimeout(work, timeoutMs, target.clock, () => request?.destroy(), `Get "${url}"`);
}

function tcpSocket(action: NonNullable<ProbeHandler['tcpSocket']>, target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const port = resolvePort(action.port, target.container);
  if (port === undefined) return Promise.resolve({ success: false, message: `port "${action.port}" is not a number nor a named port of container ${target.container.name}` });
  const host = action.host || target.podIP;
  let socket: net.Socket | undefined;
  const work = new Promise<ProbeOutcome>((resolve) => {
    socket = net.connect({ host, port }, () => {
      socket?.destroy();
      resolve({ success: true, message: '' });
    });
    socket.on('error', (error) => resolve({ success: false, message: `dial tcp ${host}:${port}: ${error.message}` }));
  });
  return withTimeout(work, timeoutMs, target.clock, () => socket?.destroy(), `dial tcp ${host}:${port}`);
}

async function execCommand(command: string[], target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  let session;
  try {
    session = await target.runtime.exec(target.containerId, { command, stdin: false, tty: false });
  } catch (error) {
    return { success: false, message: (error as Error).message };
  }
  let output = '';
  const collect = (chunk: Buffer): void => {
    if (output.length < MAX_OUTPUT_BYTES) output += chunk.toString();
  };
  session.stdout.on('data', collect);
  session.stderr.on('data', collect);
  const current = session;
  const ended = (stream: NodeJS.ReadableStream): Promise<void> =>
    new Promise((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
  // The output is part of the outcome: wait for both streams as well as the exit.
  const work = Promise.all([current.exited, ended(current.stdout), ended(current.stderr)]).then(([{ exitCode }]) => ({
    success: exitCode === 0,
    message: exitCode === 0 ? output : `command ${JSON.stringify(command)} exited with ${exitCode}: ${output}`.trimEnd(),
  }));
  return withTimeout(work, timeoutMs, target.clock, () => current.kill(), `command ${JSON.stringify(command)}`);
}

/** The default HandlerRunner. */
export const runHandler: HandlerRunner = async (handler, target, timeoutMs) => {
  if (handler.exec) return execCommand(handler.exec.command ?? [], target, timeoutMs);
  if (handler.httpGet) return httpGet(handler.httpGet, target, timeoutMs);
  if (handler.tcpSocket) return tcpSocket(handler.tcpSocket, target, timeoutMs);
  if ('sleep' in handler && handler.sleep) {
    await target.clock.sleep(handler.sleep.seconds * 1000);
    return { success: true, message: '' };
  }
  if ('grpc' in handler && handler.grpc) return { success: false, message: 'grpc probes are not supported by the kube-lite kubelet' };
  return { success: false, message: 'the handler names no action (exec, httpGet, tcpSocket)' };
};
