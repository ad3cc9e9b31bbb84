// A watch on the measured pods that lasts the whole phase: when the server
// ends the stream (timeout, a slow-client cut on a loaded machine) it resumes
// from the last version seen, and after 410 Gone it lists again, feeding the
// listed pods as ADDED so none is missed (their times are then late, which
// the restart count in the report makes visible).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pod } from '@kube-lite/api';
import { isGone, RESOURCES, type ApiClient, type Watch } from '@kube-lite/client';

export type PodEventHandler = (type: string, pod: Pod, atMs: number) => void;

/** Pause before resuming after an error other than 410, so a failing server is not hammered. */
const RETRY_DELAY_MS = 100;

export class PodWatch {
  /** Times the stream was opened again after the first. */
  restarts = 0;
  /** Why the stream ended each time, for the report. */
  readonly endReasons: string[] = [];
  private current: Watch<Pod> | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly client: ApiClient,
    private readonly labelSelector: string,
    private readonly onEvent: PodEventHandler,
    private readonly nowMs: () => number,
  ) {}

  /** Lists, then watches from the list's version; resolves once the first stream is requested. */
  async start(): Promise<void> {
    const resourceVersion = await this.relist(false);
    this.running = this.loop(resourceVersion);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.stop();
    await this.running;
  }

  private async loop(initialVersion: string): Promise<void> {
    let resourceVersion = initialVersion;
    while (!this.stopped) {
      const watch = this.client.watch<Pod>(RESOURCES.pods, undefined, { labelSelector: this.labelSelector, resourceVersion });
      this.current = watch;
      try {
        for await (const event of watch) {
          resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
          this.onEvent(event.type, event.object, this.nowMs());
        }
        if (this.stopped) return;
        this.endReasons.push('the server ended the stream');
      } catch (error) {
        if (this.stopped) return;
        this.endReasons.push(String(error));
        if (isGone(error)) {
          resourceVersion = await this.relist(true);
        } else {
          await sleep(RETRY_DELAY_MS);
        }
      }
      this.restarts++;
    }
  }

  /** The list's version; with `feed`, every listed pod goes to the handler as ADDED. */
  private async relist(feed: boolean): Promise<string> {
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.client.pods().list({ labelSelector: this.labelSelector, limit: 500, ...(continueToken === undefined ? {} : { continue: continueToken }) });
      resourceVersion ||= page.metadata?.resourceVersion ?? '';
      if (feed) for (const pod of page.items) this.onEvent('ADDED', pod, this.nowMs());
      continueToken = page.metadata?.continue || undefined;
    } while (continueToken !== undefined);
    return resourceVersion;
  }
}
