// Everything the plugins need to know about one node: the node object and
// the pods bound or assumed on it, with their requests and host ports summed.
import type { Node } from '@kube-lite/api';
import { DEFAULT_HOST_IP, type HostPort, type PodInfo } from './pod-info';
import { addResources, emptyResources, nodeAllocatable, type Allocatable, type Resources } from './resources';

/** Host ports in use on a node: hostIP -> "protocol/port" -> number of pods holding it. */
export class HostPortUsage {
  private readonly byIp = new Map<string, Map<string, number>>();

  add(port: HostPort, delta: 1 | -1): void {
    let ports = this.byIp.get(port.hostIP);
    if (!ports) {
      ports = new Map();
      this.byIp.set(port.hostIP, ports);
    }
    const key = `${port.protocol}/${port.port}`;
    const count = (ports.get(key) ?? 0) + delta;
    if (count > 0) ports.set(key, count);
    else ports.delete(key);
    if (ports.size === 0) this.byIp.delete(port.hostIP);
  }

  /** Upstream HostPortInfo.CheckConflict: 0.0.0.0 conflicts with every address, and every address with 0.0.0.0. */
  conflicts(port: HostPort): boolean {
    if (port.port <= 0) return false;
    const key = `${port.protocol}/${port.port}`;
    if (port.hostIP === DEFAULT_HOST_IP) {
      for (const ports of this.byIp.values()) if (ports.has(key)) return true;
      return false;
    }
    return (this.byIp.get(port.hostIP)?.has(key) ?? false) || (this.byIp.get(DEFAULT_HOST_IP)?.has(key) ?? false);
  }

  get size(): number {
    return this.byIp.size;
  }
}

export class NodeInfo {
  /** Undefined while pods remain on a node the informer has deleted. */
  node: Node | undefined;
  readonly pods = new Map<string, PodInfo>();
  /** Sum of the pods' requests (what NodeResourcesFit checks against allocatable). */
  readonly requested: Resources = emptyResources();
  /** Sum with scoring defaults for request-less containers. */
  readonly nonZeroRequested: Resources = emptyResources();
  allocatable: Allocatable = { ...emptyResources(), pods: 0 };
  readonly usedPorts = new HostPortUsage();
  /** Bumped on every change; lets callers notice a node changed between two looks. */
  generation = 0;

  constructor(readonly name: string) {}

  setNode(node: Node | undefined): void {
    this.node = node;
    this.allocatable = nodeAllocatable(node?.status?.allocatable);
    this.generation++;
  }

  addPod(info: PodInfo): void {
    if (this.pods.has(info.key)) throw new Error(`pod ${info.key} is already on node ${this.name}`);
    this.pods.set(info.key, info);
    this.account(info, 1);
  }

  removePod(key: string): PodInfo | undefined {
    const info = this.pods.get(key);
    if (!info) return undefined;
    this.pods.delete(key);
    this.account(info, -1);
    return info;
  }

  private account(info: PodInfo, sign: 1 | -1): void {
    addResources(this.requested, info.requests, sign);
    addResources(this.nonZeroRequested, info.nonZeroRequests, sign);
    for (const port of info.hostPorts) this.usedPorts.add(port, sign);
    this.generation++;
  }
}
