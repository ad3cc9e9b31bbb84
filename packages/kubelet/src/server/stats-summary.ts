// The kubelet's Summary API (GET /stats/summary): CPU and memory of the node,
// each pod and each container, in upstream's statsapi.Summary shape (the
// subset metrics-server and `kubectl top` read).
import { formatMicroTime, formatTime, type Pod } from '@kube-lite/api';
import { POD_UID_LABEL } from '../runtime/labels';
import { readNodeCpuMemory } from '../runtime/process/proc';
import type { ContainerRuntime } from '../runtime/runtime';

export interface CPUStats {
  time: string;
  usageNanoCores: number;
  usageCoreNanoSeconds: number;
}

export interface MemoryStats {
  time: string;
  workingSetBytes: number;
  usageBytes: number;
  availableBytes?: number;
  rssBytes?: number;
}

export interface ContainerStatsSummary {
  name: string;
  startTime: string;
  cpu: CPUStats;
  memory: MemoryStats;
}

export interface PodStatsSummary {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerStatsSummary[];
  cpu: CPUStats;
  memory: MemoryStats;
}

export interface Summary {
  node: { nodeName: string; startTime: string; cpu: CPUStats; memory: MemoryStats };
  pods: PodStatsSummary[];
}

/** Keeps the previous node CPU sample so that a rate can be given. */
export class SummaryProvider {
  private previousNodeSample: { timeMs: number; cpuNanoSeconds: number } | undefined;
  private readonly startedMs = Date.now();

  constructor(
    private readonly nodeName: string,
    private readonly runtime: ContainerRuntime,
    private readonly pods: () => Pod[],
  ) {}

  async summary(): Promise<Summary> {
    const nowMs = Date.now();
    // Sample times keep their milliseconds: rates are taken between two scrapes some 15 s apart, where a
    // whole-second timestamp would be up to 7% off.
    const time = formatMicroTime(nowMs);
    const node = readNodeCpuMemory();
    const previous = this.previousNodeSample;
    let nodeNanoCores = 0;
    if (node) {
      if (previous && nowMs > previous.timeMs) nodeNanoCores = Math.max(0, Math.round(((node.cpuNanoSeconds - previous.cpuNanoSeconds) * 1000) / (nowMs - previous.timeMs)));
      this.previousNodeSample = { timeMs: nowMs, cpuNanoSeconds: node.cpuNanoSeconds };
    }
    const usedBytes = node ? node.memoryTotalBytes - node.memoryAvailableBytes : 0;
    const pods: PodStatsSummary[] = [];
    for (const pod of this.pods()) {
      const uid = pod.metadata?.uid ?? '';
      const containers: ContainerStatsSummary[] = [];
      for (const container of await this.runtime.listContainers({ labels: { [POD_UID_LABEL]: uid }, state: 'running' })) {
        const stats = await this.runtime.containerStats(container.id).catch(() => undefined);
        if (!stats) continue;
        const statsTime = formatMicroTime(stats.timestampMs);
        containers.push({
          name: container.name,
          startTime: formatMicroTime(container.startedAtMs ?? container.createdAtMs),
          cpu: { time: statsTime, usageNanoCores: stats.cpuUsageNanoCores, usageCoreNanoSeconds: stats.cpuUsageCoreNanoSeconds },
          memory: { time: statsTime, workingSetBytes: stats.memoryWorkingSetBytes, usageBytes: stats.memoryWorkingSetBytes, rssBytes: stats.memoryWorkingSetBytes },
        });
      }
      const sum = (pick: (container: ContainerStatsSummary) => number): number => containers.reduce((total, container) => total + pick(container), 0);
      pods.push({
        podRef: { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? 'default', uid },
        startTime: pod.status?.startTime ?? formatTime(nowMs),
        containers,
        cpu: { time, usageNanoCores: sum((container) => container.cpu.usageNanoCores), usageCoreNanoSeconds: sum((container) => container.cpu.usageCoreNanoSeconds) },
        memory: { time, workingSetBytes: sum((container) => container.memory.workingSetBytes), usageBytes: sum((container) => container.memory.usageBytes) },
      });
    }
    return {
      node: {
        nodeName: this.nodeName,
        startTime: formatTime(this.startedMs),
        cpu: { time, usageNanoCores: nodeNanoCores, usageCoreNanoSeconds: Math.round(node?.cpuNanoSeconds ?? 0) },
        memory: { time, workingSetBytes: usedBytes, usageBytes: usedBytes, availableBytes: node?.memoryAvailableBytes ?? 0 },
      },
      pods,
    };
  }
}
