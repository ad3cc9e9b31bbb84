// The metrics source behind metrics.k8s.io: every resolution interval it
// scrapes the kubelet of every Ready node (concurrently, each within a
// timeout) and stores the cycle's samples; the REST handlers read usage from
// the storage. It is metrics-server folded into the API server, with a
// shorter default interval (15 s instead of 60 s) so a small cluster's
// autoscaler reacts within a minute.

import type { Node } from '@kube-lite/api';
import { kubeletAddressOf, scrapeKubelet, type KubeletConnection } from './scraper';
import { MetricsStorage, type ContainerUsage, type Usage } from './storage';
import type { NodeSummary } from './summary';

export const DEFAULT_METRIC_RESOLUTION_MS = 15_000;

export interface MetricsSourceOptions {
  /** How often every kubelet is scraped (--metric-resolution); also the usual window of a metric. */
  resolutionMs: number;
  /** How long one kubelet may take to answer; default: the resolution, at most 10 s. */
  scrapeTimeoutMs?: number;
  /** How the kubelets are reached: the same scheme, port and client certificate as logs and exec. */
  kubelet: KubeletConnection;
  /** The Nodes as stored; only Ready ones are scraped. */
  listNodes: () => Promise<Node[]>;
  /** Failures worth a log line: a kubelet that did not answer, a node list that failed. */
  onError?: (message: string, fields: Record<string, unknown>) => void;
  /** Scrapes one node; replaced in tests. Default: HTTP(S) GET of the kubelet's /stats/summary. */
  scrape?: (node: Node) => Promise<NodeSummary>;
}

/** What the REST handlers read. */
export interface MetricsReader {
  nodeUsage(nodeName: string): Usage | undefined;
  podUsage(namespace: string, name: string): { containers: ContainerUsage[]; timestampMs: number; windowMs: number } | undefined;
}

function isNodeReady(node: Node): boolean {
  return (node.status?.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True');
}

export class MetricsSource implements MetricsReader {
  private readonly storage: MetricsStorage;
  private readonly scrapeTimeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private cycle: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: MetricsSourceOptions) {
    if (!(options.resolutionMs > 0)) throw new RangeError(`metric resolution must be positive, got ${options.resolutionMs} ms`);
    this.scrapeTimeoutMs = options.scrapeTimeoutMs ?? Math.min(options.resolutionMs, 10_000);
    // A container seen for the first time within one and a half intervals of its start is rated from its start.
    this.storage = new MetricsStorage({ freshContainerWindowMs: Math.round(options.resolutionMs * 1.5) });
  }

  /** Scrapes now and then every resolution interval until stop(). */
  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    const tick = (): void => {
      // A cycle still running (slow kubelets) is not overlapped by the next one.
      if (this.cycle === undefined) this.cycle = this.scrapeOnce().finally(() => (this.cycle = undefined));
    };
    tick();
    this.timer = setInterval(tick, this.options.resolutionMs);
    this.timer.unref();
  }

  /** Stops scraping and waits for a running cycle. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.cycle;
  }

  /** One scrape cycle: every Ready node, concurrently; a failed node is left out of this cycle. */
  async scrapeOnce(): Promise<void> {
    let nodes: Node[];
    try {
      nodes = (await this.options.listNodes()).filter(isNodeReady);
    } catch (error) {
      this.options.onError?.('metrics: unable to list nodes', { error: String(error) });
      return;
    }
    const scrape = this.options.scrape ?? ((node: Node) => scrapeKubelet(kubeletAddressOf(node, this.options.kubelet.defaultPort), this.options.kubelet, this.scrapeTimeoutMs));
    const results = await Promise.allSettled(nodes.map((node) => scrape(node)));
    const summaries: NodeSummary[] = [];
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') summaries.push(result.value);
      else this.options.onError?.('metrics: unable to scrape a kubelet', { node: nodes[index]?.metadata?.name, error: result.reason instanceof Error ? result.reason.message : String(result.reason) });
    });
    if (!this.stopped) this.storage.store(summaries);
  }

  nodeUsage(nodeName: string): Usage | undefined {
    return this.storage.nodeUsage(nodeName);
  }

  podUsage(namespace: string, name: string): { containers: ContainerUsage[]; timestampMs: number; windowMs: number } | undefined {
    return this.storage.podUsage(namespace, name);
  }
}
