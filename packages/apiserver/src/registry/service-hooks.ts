// Services take a cluster IP and, for NodePort and LoadBalancer types, a node
// port per service port; both come from shared ranges and go back when the
// Service is deleted or no longer needs them.

import type { Service, ServicePort } from '@kube-lite/api';
import { invalid, internalError, type FieldCause } from '../server';
import type { ClusterIpAllocator, NodePortAllocator } from './allocator/service-ranges';
import { RangeFullError } from './allocator/range-allocator';
import type { LifecycleHooks, WriteEffects } from './hooks';
import type { ApiObject } from './object';

function needsClusterIp(service: Service): boolean {
  return service.spec?.type !== 'ExternalName' && service.spec?.clusterIP !== 'None';
}

function needsNodePorts(service: Service): boolean {
  return service.spec?.type === 'NodePort' || service.spec?.type === 'LoadBalancer';
}

function allocatedIp(service: Service): string | undefined {
  const ip = service.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None' ? ip : undefined;
}

function nodePortsOf(service: Service): number[] {
  if (!needsNodePorts(service)) return [];
  return (service.spec?.ports ?? []).map((port) => port.nodePort).filter((port): port is number => typeof port === 'number' && port > 0);
}

function rejected(service: Service, causes: FieldCause[]): Error {
  return invalid({ group: '', kind: 'Service' }, service.metadata?.name ?? '', causes);
}

function sameServicePort(left: ServicePort, right: ServicePort): boolean {
  return left.port === right.port && (left.protocol ?? 'TCP') === (right.protocol ?? 'TCP');
}

export class ServiceAllocationHooks implements LifecycleHooks {
  constructor(
    private readonly ips: ClusterIpAllocator,
    private readonly ports: NodePortAllocator,
  ) {}

  fillFromPrevious(nextObject: ApiObject, previousObject: ApiObject): void {
    const next = nextObject as Service;
    const previous = previousObject as Service;
    const spec = (next.spec ??= {});
    const previousIp = allocatedIp(previous);
    if ((spec.clusterIP === undefined || spec.clusterIP === '') && previousIp !== undefined && spec.type !== 'ExternalName') {
      spec.clusterIP = previousIp;
      spec.clusterIPs = [...(previous.spec?.clusterIPs ?? [previousIp])];
    }
    if (spec.clusterIPs === undefined && spec.clusterIP !== undefined && spec.clusterIP !== '') spec.clusterIPs = [spec.clusterIP];
    for (const port of spec.ports ?? []) if (port.nodePort === null) delete port.nodePort;
    if (needsNodePorts(previous) && !needsNodePorts(next)) {
      // Leaving NodePort/LoadBalancer: drop what only those types carry, as upstream's dropTypeDependentFields,
      // when it is what the old type had (a client that spells it out on purpose still gets told it is invalid).
      const previousPorts = new Set(nodePortsOf(previous));
      for (const port of spec.ports ?? []) if (port.nodePort !== undefined && previousPorts.has(port.nodePort)) delete port.nodePort;
      if (spec.externalTrafficPolicy === previous.spec?.externalTrafficPolicy) delete spec.externalTrafficPolicy;
      if (spec.healthCheckNodePort === previous.spec?.healthCheckNodePort) delete spec.healthCheckNodePort;
    }
    if (spec.type !== 'LoadBalancer' && previous.spec?.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === previous.spec.allocateLoadBalancerNodePorts) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if (!needsNodePorts(next) || !needsNodePorts(previous)) return;
    for (const port of spec.ports ?? []) {
      if (port.nodePort !== undefined && port.nodePort !== 0) continue;
      const match = (previous.spec?.ports ?? []).find((candidate) => sameServicePort(candidate, port));
      if (match?.nodePort !== undefined) port.nodePort = match.nodePort;
    }
  }

  async beforeCreate(object: ApiObject): Promise<WriteEffects> {
    const service = object as Service;
    const taken: Taken = { ips: [], ports: [] };
    try {
      await this.allocateIp(service, undefined, taken);
      await this.allocatePorts(service, [], taken);
    } catch (error) {
      await this.giveBack(taken);
      throw error;
    }
    return { commit: async () => undefined, rollback: () => this.giveBack(taken) };
  }

  async beforeUpdate(nextObject: ApiObject, previousObject: ApiObject): Promise<WriteEffects> {
    const next = nextObject as Service;
    const previous = previousObject as Service;
    const taken: Taken = { ips: [], ports: [] };
    const freed: Taken = { ips: [], ports: [] };
    const previousIp = allocatedIp(previous);
    try {
      if (!needsClusterIp(next)) {
        if (previousIp !== undefined) freed.ips.push(previousIp);
        if (next.spec?.type === 'ExternalName') {
          delete next.spec.clusterIP;
          delete next.spec.clusterIPs;
        }
      } else {
        await this.allocateIp(next, previousIp, taken);
      }
      const previousPorts = nodePortsOf(previous);
      await this.allocatePorts(next, previousPorts, taken);
      const kept = new Set(nodePortsOf(next));
      freed.ports.push(...previousPorts.filter((port) => !kept.has(port)));
    } catch (error) {
      await this.giveBack(taken);
      throw error;
    }
    return { commit: () => this.giveBack(freed), rollback: () => this.giveBack(taken) };
  }

  async afterDelete(object: ApiObject): Promise<void> {
    const service = object as Service;
    const ip = allocatedIp(service);
    await this.giveBack({ ips: ip === undefined ? [] : [ip], ports: nodePortsOf(service) });
  }

  private async allocateIp(service: Service, previousIp: string | undefined, taken: Taken): Promise<void> {
    if (!needsClusterIp(service)) return;
    const spec = (service.spec ??= {});
    const requested = allocatedIp(service);
    if (requested !== undefined && requested === previousIp) return;
    if (requested === undefined) {
      let ip: string;
      try {
        ip = await this.ips.allocateNext();
      } catch (error) {
        if (error instanceof RangeFullError) throw internalError(new Error(`failed to allocate a serviceIP: range is full`));
        throw error;
      }
      taken.ips.push(ip);
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
      return;
    }
    if (!this.ips.contains(requested)) {
      throw rejected(service, [
        {
          reason: 'FieldValueInvalid',
          field: 'spec.clusterIP',
          message: `Invalid value: "${requested}": provided IP is not in the valid range. The range of valid IPs is ${this.ips.cidr}`,
        },
      ]);
    }
    if (!(await this.ips.allocate(requested))) {
      throw rejected(service, [{ reason: 'FieldValueInvalid', field: 'spec.clusterIP', message: `Invalid value: "${requested}": provided IP is already allocated` }]);
    }
    taken.ips.push(requested);
    spec.clusterIPs = [requested];
  }

  private async allocatePorts(service: Service, previousPorts: readonly number[], taken: Taken): Promise<void> {
    if (!needsNodePorts(service)) return;
    const owned = new Set(previousPorts);
    const inThisService = new Set<number>();
    const ports = service.spec?.ports ?? [];
    for (const [index, port] of ports.entries()) {
      const field = `spec.ports[${index}].nodePort`;
      if (port.nodePort === undefined || port.nodePort === 0) {
        let allocated: number;
        try {
          allocated = await this.ports.allocateNext();
        } catch (error) {
          if (error instanceof RangeFullError) throw internalError(new Error(`failed to allocate a nodePort: range is full`));
          throw error;
        }
        taken.ports.push(allocated);
        inThisService.add(allocated);
        port.nodePort = allocated;
        continue;
      }
      const requested = port.nodePort;
      // The same port may serve TCP and UDP of one Service; it is held once.
      if (owned.has(requested) || inThisService.has(requested)) continue;
      if (!this.ports.contains(requested)) {
        throw rejected(service, [
          {
            reason: 'FieldValueInvalid',
            field,
            message: `Invalid value: ${requested}: provided port is not in the valid range. The range of valid ports is ${this.ports.rangeText}`,
          },
        ]);
      }
      if (!(await this.ports.allocate(requested))) {
        throw rejected(service, [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${requested}: provided port is already allocated` }]);
      }
      taken.ports.push(requested);
      inThisService.add(requested);
    }
  }

  private async giveBack(taken: Taken): Promise<void> {
    for (const ip of taken.ips) await this.ips.release(ip);
    for (const port of taken.ports) await this.ports.release(port);
  }
}

interface Taken {
  ips: string[];
  ports: number[];
}
