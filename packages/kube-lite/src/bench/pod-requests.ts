// The benchmark's two conversations with the API server, over its REST API
// with the admin token and the cluster CA (the path kubectl takes): creating
// pods, and watching them (list, then a watch from that resourceVersion,
// re-watched when the server ends it and re-listed on 410 Gone).
import fs from 'node:fs';
import https from 'node:https';
import type { ApiAccess } from '../cluster/api';
import type { PodObservation } from './startup-tracker';

/** The API server answered a request with a non-2xx status. */
export class ApiRequestError extends Error {
  constructor(
    readonly method: string,
    readonly requestPath: string,
    readonly statusCode: number,
    readonly body: string,
  ) {
    super(`${method} ${requestPath}: ${statusCode} ${body.slice(0, 300)}`);
    this.name = 'ApiRequestError';
  }
}

const REQUEST_TIMEOUT_MS = 10_000;
/** The server ends a watch after this; the watcher then re-watches from the last resourceVersion it saw. */
const WATCH_TIMEOUT_SECONDS = 300;
const REWATCH_DELAY_MS = 200;

export class PodRequests {
  private readonly ca: string;
  /** Keep-alive connections for the creates, so connection setup is not part of a pod's latency. */
  private readonly agent: https.Agent;

  constructor(
    private readonly access: ApiAccess,
    /** Creates in flight at once (and so connections opened). */
    maxSockets: number,
  ) {
    this.ca = fs.readFileSync(access.caFile, 'utf8');
    this.agent = new https.Agent({ keepAlive: true, maxSockets, ca: this.ca });
  }

  private options(method: string, extraHeaders: Record<string, string> = {}): https.RequestOptions {
    return {
      method,
      agent: this.agent,
      ca: this.ca,
      headers: { Authorization: `Bearer ${this.access.token}`, Accept: 'application/json', ...extraHeaders },
    };
  }

  /** One request with a JSON answer; rejects with ApiRequestError on a non-2xx status. */
  requestJson(method: 'GET' | 'POST', requestPath: string, body?: unknown): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) };
    return new Promise((resolve, reject) => {
      const request = https.request(`${this.access.url}${requestPath}`, { ...this.options(method, headers), timeout: REQUEST_TIMEOUT_MS }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(new ApiRequestError(method, requestPath, status, text));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch (error) {
            reject(new Error(`${method} ${requestPath}: the answer is not JSON`, { cause: error }));
          }
        });
      });
      request.on('timeout', () => request.destroy(new Error(`${method} ${requestPath}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      request.on('error', reject);
      request.end(payload);
    });
  }

  createPod(namespace: string, pod: unknown): Promise<unknown> {
    return this.requestJson('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, pod);
  }

  /**
   * Lists the pods matching `labelSelector`, then watches them; calls
   * `onPod` with each object seen (listed or from a watch event) and the
   * moment it was read. Runs until the returned watcher is stopped.
   */
  watchPods(namespace: string, labelSelector: string, onPod: (pod: PodObservation, nowMs: number) => void, onProblem: (message: string) => void): PodWatcher {
    const watcher = new PodWatcher(this, namespace, labelSelector, onPod, onProblem);
    watcher.run();
    return watcher;
  }

  /** Opens one watch stream; `onLine` gets each newline-terminated frame. Resolves when the server ends the stream. */
  openWatch(requestPath: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      // Its own connection: a watch holds the socket for minutes.
      const request = https.request(`${this.access.url}${requestPath}`, { ...this.options('GET'), agent: false, signal }, (response) => {
        const status = response.statusCode ?? 0;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => reject(new ApiRequestError('GET', requestPath, status, Buffer.concat(chunks).toString('utf8'))));
          return;
        }
        let pending = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          pending += chunk;
          for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line.trim() !== '') onLine(line);
          }
        });
        response.on('end', () => resolve());
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

interface PodList {
  metadata?: { resourceVersion?: string };
  items?: PodObservation[];
}

interface WatchFrame {
  type?: string;
  object?: PodObservation & { code?: number; message?: string };
}

export class PodWatcher {
  private readonly abort = new AbortController();
  private resourceVersion: string | undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly requests: PodRequests,
    private readonly namespace: string,
    private readonly labelSelector: string,
    private readonly onPod: (pod: PodObservation, nowMs: number) => void,
    private readonly onProblem: (message: string) => void,
  ) {}

  run(): void {
    this.done = this.loop();
  }

  private podsPath(query: string): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods?labelSelector=${encodeURIComponent(this.labelSelector)}${query}`;
  }

  private async list(): Promise<void> {
    const list = (await this.requests.requestJson('GET', this.podsPath(''))) as PodList;
    const nowMs = Date.now();
    for (const pod of list.items ?? []) this.onPod(pod, nowMs);
    this.resourceVersion = list.metadata?.resourceVersion;
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        const from = this.resourceVersion === undefined ? '' : `&resourceVersion=${encodeURIComponent(this.resourceVersion)}`;
        await this.requests.openWatch(this.podsPath(`&watch=true&allowWatchBookmarks=true&timeoutSeconds=${WATCH_TIMEOUT_SECONDS}${from}`), (line) => this.onFrame(line), this.abort.signal);
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.onProblem(`pod watch: ${(error as Error).message}; watching again`);
        if (error instanceof ApiRequestError && error.statusCode === 410) this.resourceVersion = undefined;
      }
      if (!this.abort.signal.aborted) await new Promise((resolve) => setTimeout(resolve, REWATCH_DELAY_MS));
    }
  }

  private onFrame(line: string): void {
    const nowMs = Date.now();
    let frame: WatchFrame;
    try {
      frame = JSON.parse(line) as WatchFrame;
    } catch {
      this.onProblem(`pod watch: a frame that is not JSON: ${line.slice(0, 120)}`);
      return;
    }
    if (frame.type === 'ERROR') {
      // 410 Gone: the resourceVersion is compacted away; list again.
      if (frame.object?.code === 410) this.resourceVersion = undefined;
      this.onProblem(`pod watch: ERROR ${frame.object?.code ?? ''} ${frame.object?.message ?? ''}`);
      return;
    }
    const version = frame.object?.metadata?.resourceVersion;
    if (version !== undefined) this.resourceVersion = version;
    if ((frame.type === 'ADDED' || frame.type === 'MODIFIED') && frame.object !== undefined) this.onPod(frame.object, nowMs);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }
}
