// Printers for core/v1 kinds, with the columns kubectl shows for them.

import { ageSince } from './age';
import { NONE, count, mapSelectorText } from './helpers';
import { AGE_COLUMN, NAME_COLUMN, column, type KindPrinter } from './types';

/* eslint-disable @typescript-eslint/no-explicit-any */

function hasReadyCondition(conditions: any[] | undefined): boolean {
  return (conditions ?? []).some((condition) => condition?.type === 'Ready' && condition?.status === 'True');
}

/** The STATUS kubectl prints for a pod: phase, or the most telling container reason, or Terminating. */
export function podStatusReason(pod: any): string {
  let reason: string = pod?.status?.reason || pod?.status?.phase || '';
  const spec = pod?.spec ?? {};
  const status = pod?.status ?? {};
  const initContainers: any[] = spec.initContainers ?? [];
  let initializing = false;
  const initStatuses: any[] = status.initContainerStatuses ?? [];
  for (const [index, container] of initStatuses.entries()) {
    const terminated = container?.state?.terminated;
    const waiting = container?.state?.waiting;
    const restartable = initContainers[index]?.restartPolicy === 'Always';
    if (terminated !== undefined && terminated.exitCode === 0) continue;
    if (restartable && container?.started === true) continue;
    if (terminated !== undefined) {
      if (terminated.reason) reason = `Init:${terminated.reason}`;
      else reason = terminated.signal ? `Init:Signal:${terminated.signal}` : `Init:ExitCode:${terminated.exitCode}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${index}/${initContainers.length}`;
    }
    initializing = true;
    break;
  }
  if (!initializing) {
    let hasRunning = false;
    const statuses: any[] = status.containerStatuses ?? [];
    for (let index = statuses.length - 1; index >= 0; index--) {
      const container = statuses[index];
      const waiting = container?.state?.waiting;
      const terminated = container?.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated !== undefined) reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      else if (container?.ready === true && container?.state?.running !== undefined) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = hasReadyCondition(status.conditions) ? 'Running' : 'NotReady';
  }
  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod?.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod?.metadata?.deletionTimestamp && !terminal) reason = 'Terminating';
  return reason;
}

function podReadyAndRestarts(pod: any, nowMs: number): { ready: string; restarts: string } {
  const containers: any[] = pod?.spec?.containers ?? [];
  const statuses: any[] = pod?.status?.containerStatuses ?? [];
  let readyCount = 0;
  let restarts = 0;
  let lastRestartMs: number | undefined;
  for (const container of statuses) {
    if (container?.ready === true && container?.state?.running !== undefined) readyCount++;
    restarts += count(container?.restartCount);
    const finishedAt = container?.lastState?.terminated?.finishedAt;
    const at = typeof finishedAt === 'string' ? Date.parse(finishedAt) : NaN;
    if (!Number.isNaN(at) && (lastRestartMs === undefined || at > lastRestartMs)) lastRestartMs = at;
  }
  const restartText = restarts > 0 && lastRestartMs !== undefined ? `${restarts} (${ageSince(new Date(lastRestartMs).toISOString(), nowMs)} ago)` : String(restarts);
  return { ready: `${readyCount}/${containers.length}`, restarts: restartText };
}

export const podPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    AGE_COLUMN,
    column('IP', 'IP address allocated to the pod. Routable at least within the cluster.', { priority: 1 }),
    column('Node', 'Name of the node this pod is assigned to.', { priority: 1 }),
    column('Nominated Node', 'Name of the node this pod is nominated to run on.', { priority: 1 }),
    column('Readiness Gates', 'The readiness gates of this pod and whether they are satisfied.', { priority: 1 }),
  ],
  cells(pod, nowMs) {
    const { ready, restarts } = podReadyAndRestarts(pod, nowMs);
    const gates: any[] = pod?.spec?.readinessGates ?? [];
    const conditions: any[] = pod?.status?.conditions ?? [];
    const gatesText =
      gates.length === 0
        ? NONE
        : `${gates.filter((gate) => conditions.some((condition) => condition?.type === gate?.conditionType && condition?.status === 'True')).length}/${gates.length}`;
    return [
      pod.metadata?.name,
      ready,
      podStatusReason(pod),
      restarts,
      ageSince(pod.metadata?.creationTimestamp, nowMs),
      pod.status?.podIP || NONE,
      pod.spec?.nodeName || NONE,
      pod.status?.nominatedNodeName || NONE,
      gatesText,
    ];
  },
};

function servicePorts(service: any): string {
  const ports: any[] = service?.spec?.ports ?? [];
  if (ports.length === 0) return NONE;
  return ports.map((port) => (port.nodePort ? `${port.port}:${port.nodePort}/${port.protocol ?? 'TCP'}` : `${port.port}/${port.protocol ?? 'TCP'}`)).join(',');
}

function loadBalancerAddresses(ingress: any[] | undefined): string[] {
  return (ingress ?? []).map((entry) => entry?.ip || entry?.hostname).filter((value): value is string => typeof value === 'string' && value !== '');
}

function serviceExternalIp(service: any): string {
  const spec = service?.spec ?? {};
  const externalIps: string[] = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ExternalName':
      return spec.externalName ?? NONE;
    case 'LoadBalancer': {
      const addresses = [...loadBalancerAddresses(service?.status?.loadBalancer?.ingress), ...externalIps];
      return addresses.length > 0 ? addresses.join(',') : '<pending>';
    }
    default:
      return externalIps.length > 0 ? externalIps.join(',') : NONE;
  }
}

export const servicePrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Type', 'Type of the service.'),
    column('Cluster-IP', 'Cluster IP of the service.'),
    column('External-IP', 'External IP of the service.'),
    column('Port(s)', 'Port(s) of the service.'),
    AGE_COLUMN,
    column('Selector', 'Selector of the service.', { priority: 1 }),
  ],
  cells(service, nowMs) {
    return [
      service.metadata?.name,
      service.spec?.type ?? 'ClusterIP',
      service.spec?.clusterIP || NONE,
      serviceExternalIp(service),
      servicePorts(service),
      ageSince(service.metadata?.creationTimestamp, nowMs),
      mapSelectorText(service.spec?.selector),
    ];
  },
};

function nodeStatus(node: any): string {
  const ready = (node?.status?.conditions ?? []).find((condition: any) => condition?.type === 'Ready');
  const states = [ready === undefined ? 'Unknown' : ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown'];
  if (node?.spec?.unschedulable === true) states.push('SchedulingDisabled');
  return states.join(',');
}

function nodeRoles(node: any): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries<string>(node?.metadata?.labels ?? {})) {
    if (key.startsWith('node-role.kubernetes.io/') && key.length > 'node-role.kubernetes.io/'.length) roles.add(key.slice('node-role.kubernetes.io/'.length));
    else if (key === 'kubernetes.io/role' && value !== '') roles.add(value);
  }
  return roles.size === 0 ? NONE : [...roles].sort().join(',');
}

function nodeAddress(node: any, type: string): string {
  return (node?.status?.addresses ?? []).find((address: any) => address?.type === type)?.address ?? NONE;
}

export const nodePrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'The status of the node'),
    column('Roles', 'The roles of the node'),
    AGE_COLUMN,
    column('Version', 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'List of internal IPs in the node.', { priority: 1 }),
    column('External-IP', 'List of external IPs in the node.', { priority: 1 }),
    column('OS-Image', 'OS image reported by the node.', { priority: 1 }),
    column('Kernel-Version', 'Kernel version reported by the node.', { priority: 1 }),
    column('Container-Runtime', 'Container runtime and version reported by the node.', { priority: 1 }),
  ],
  cells(node, nowMs) {
    const info = node.status?.nodeInfo ?? {};
    return [
      node.metadata?.name,
      nodeStatus(node),
      nodeRoles(node),
      ageSince(node.metadata?.creationTimestamp, nowMs),
      info.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      info.osImage || '<unknown>',
      info.kernelVersion || '<unknown>',
      info.containerRuntimeVersion || '<unknown>',
    ];
  },
};

export const namespacePrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Status', 'The status of the namespace'), AGE_COLUMN],
  cells: (namespace, nowMs) => [namespace.metadata?.name, namespace.status?.phase ?? '', ageSince(namespace.metadata?.creationTimestamp, nowMs)],
};

export const configMapPrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Data', 'Data contains the configuration data.', { type: 'integer' }), AGE_COLUMN],
  cells: (configMap, nowMs) => [
    configMap.metadata?.name,
    Object.keys(configMap.data ?? {}).length + Object.keys(configMap.binaryData ?? {}).length,
    ageSince(configMap.metadata?.creationTimestamp, nowMs),
  ],
};

export const secretPrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Type', 'The type of the secret'), column('Data', 'The number of data items in the secret', { type: 'integer' }), AGE_COLUMN],
  cells: (secret, nowMs) => [
    secret.metadata?.name,
    secret.type ?? 'Opaque',
    Object.keys(secret.data ?? {}).length + Object.keys(secret.stringData ?? {}).length,
    ageSince(secret.metadata?.creationTimestamp, nowMs),
  ],
};

export const serviceAccountPrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Secrets', 'Secrets is the list of secrets allowed to be used by pods running using this ServiceAccount.', { type: 'integer' }), AGE_COLUMN],
  cells: (account, nowMs) => [account.metadata?.name, (account.secrets ?? []).length, ageSince(account.metadata?.creationTimestamp, nowMs)],
};

function eventTimes(event: any): { first: string | undefined; last: string | undefined } {
  const first = event.firstTimestamp || event.eventTime || event.metadata?.creationTimestamp;
  const last = event.series?.lastObservedTime || event.lastTimestamp || event.eventTime || first;
  return { first, last };
}

export const eventPrinter: KindPrinter = {
  columns: [
    column('Last Seen', 'Time when last event from this object was seen.'),
    column('Type', 'Type of this event (Normal, Warning), new types could be added in the future.'),
    column('Reason', 'The reason for this event.'),
    column('Object', 'The object this Event is about.'),
    column('Subobject', 'The subobject this Event is about.', { priority: 1 }),
    column('Source', 'The source of this event.', { priority: 1 }),
    column('Message', 'A human-readable description of the status of this operation.'),
    column('First Seen', 'Time when first event from this object was seen.', { priority: 1 }),
    column('Count', 'The number of times this event has occurred.', { type: 'integer', priority: 1 }),
    column('Name', 'The name of the event.', { priority: 1 }),
  ],
  cells(event, nowMs) {
    const { first, last } = eventTimes(event);
    const involved = event.involvedObject ?? {};
    const source = event.source?.component ? (event.source.host ? `${event.source.component}, ${event.source.host}` : event.source.component) : event.reportingComponent ?? '';
    const countValue = event.series?.count ?? event.count ?? 1;
    return [
      ageSince(last, nowMs),
      event.type ?? '',
      event.reason ?? '',
      `${String(involved.kind ?? '').toLowerCase()}/${involved.name ?? ''}`,
      involved.fieldPath ?? '',
      source,
      String(event.message ?? '').trim(),
      ageSince(first, nowMs),
      countValue,
      event.metadata?.name,
    ];
  },
};

function endpointsText(endpoints: any): string {
  const all: string[] = [];
  let total = 0;
  for (const subset of endpoints?.subsets ?? []) {
    const addresses: any[] = subset?.addresses ?? [];
    const ports: any[] = subset?.ports ?? [];
    for (const address of addresses) {
      if (ports.length === 0) {
        total++;
        if (all.length < 3) all.push(address.ip);
        continue;
      }
      for (const port of ports) {
        total++;
        if (all.length < 3) all.push(`${address.ip}:${port.port}`);
      }
    }
  }
  if (total === 0) return NONE;
  return total > 3 ? `${all.join(',')} + ${total - 3} more...` : all.join(',');
}

export const endpointsPrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Endpoints', 'Endpoints of the service'), AGE_COLUMN],
  cells: (endpoints, nowMs) => [endpoints.metadata?.name, endpointsText(endpoints), ageSince(endpoints.metadata?.creationTimestamp, nowMs)],
};

const ACCESS_MODE_SHORT: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

function accessModes(modes: string[] | undefined): string {
  return (modes ?? []).map((mode) => ACCESS_MODE_SHORT[mode] ?? mode).join(',');
}

export const persistentVolumeClaimPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'The phase of the claim.'),
    column('Volume', 'The volume this claim is bound to.'),
    column('Capacity', 'The capacity of the bound volume.'),
    column('Access Modes', 'The access modes of the bound volume.'),
    column('StorageClass', 'The storage class of the claim.'),
    column('VolumeAttributesClass', 'The volume attributes class of the claim.'),
    AGE_COLUMN,
    column('VolumeMode', 'The volume mode of the claim.', { priority: 1 }),
  ],
  cells(claim, nowMs) {
    const bound = claim.spec?.volumeName ? true : false;
    return [
      claim.metadata?.name,
      claim.metadata?.deletionTimestamp ? 'Terminating' : claim.status?.phase ?? '',
      claim.spec?.volumeName ?? '',
      bound ? String(claim.status?.capacity?.storage ?? '') : '',
      bound ? accessModes(claim.status?.accessModes) : '',
      claim.spec?.storageClassName ?? '',
      claim.spec?.volumeAttributesClassName || NONE,
      ageSince(claim.metadata?.creationTimestamp, nowMs),
      claim.spec?.volumeMode ?? '<unset>',
    ];
  },
};

export const persistentVolumePrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Capacity', 'The storage capacity of the volume.'),
    column('Access Modes', 'The access modes of the volume.'),
    column('Reclaim Policy', 'What happens to the volume when its claim is released.'),
    column('Status', 'The phase of the volume.'),
    column('Claim', 'The claim bound to the volume.'),
    column('StorageClass', 'The storage class of the volume.'),
    column('VolumeAttributesClass', 'The volume attributes class of the volume.'),
    column('Reason', 'Why the volume is in its phase.'),
    AGE_COLUMN,
    column('VolumeMode', 'The volume mode of the volume.', { priority: 1 }),
  ],
  cells(volume, nowMs) {
    const claim = volume.spec?.claimRef ? `${volume.spec.claimRef.namespace}/${volume.spec.claimRef.name}` : '';
    return [
      volume.metadata?.name,
      String(volume.spec?.capacity?.storage ?? ''),
      accessModes(volume.spec?.accessModes),
      volume.spec?.persistentVolumeReclaimPolicy ?? '',
      volume.metadata?.deletionTimestamp ? 'Terminating' : volume.status?.phase ?? '',
      claim,
      volume.spec?.storageClassName ?? '',
      volume.spec?.volumeAttributesClassName || NONE,
      volume.status?.reason ?? '',
      ageSince(volume.metadata?.creationTimestamp, nowMs),
      volume.spec?.volumeMode ?? '<unset>',
    ];
  },
};

