// The Endpoints controller: for every Service with a selector, an Endpoints
// object of the same name listing the selected pods' IPs, ready ones under
// addresses and the others under notReadyAddresses, with each service port
// resolved per pod (a named targetPort is looked up in the pod's containers;
// a pod lacking it is left out of that port). Written only on change.
// Endpoints of a Service without a selector belong to the user: untouched.
import {
  deepCopy,
  isPodReady,
  isPodTerminal,
  jsonEqual,
  selectorFromSet,
  type EndpointAddress,
  type EndpointPort,
  type EndpointSubset,
  type Endpoints,
  type Pod,
  type Service,
  type ServicePort,
} from '@kube-lite/api';
import { isNotFound, objectKey, splitObjectKey, type Lister } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';

export const ENDPOINT_CONTROLLER_NAME = 'endpoint';
/** Set on Endpoints of headless Services, as upstream. */
export const HEADLESS_SERVICE_LABEL = 'service.kubernetes.io/headless';

export class EndpointController extends QueueController {
  private readonly services: Lister<Service>;
  private readonly pods: Lister<Pod>;
  private readonly endpoints: Lister<Endpoints>;

  constructor(context: ControllerContext) {
    super(ENDPOINT_CONTROLLER_NAME, context);
    const serviceInformer = context.informers.services();
    const podInformer = context.informers.pods();
    const endpointsInformer = context.informers.endpoints();
    this.services = serviceInformer.lister;
    this.pods = podInformer.lister;
    this.endpoints = endpointsInformer.lister;
    serviceInformer.addEventHandler({
      onAdd: (service) => this.enqueue(service),
      onUpdate: (_old, service) => this.enqueue(service),
      onDelete: (object) => this.enqueue(deletedObject(object)),
    });
    podInformer.addEventHandler({
      onAdd: (pod) => this.enqueueServicesOf(pod),
      onUpdate: (old, pod) => {
        if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
        this.enqueueServicesOf(pod);
        if (!jsonEqual(old.metadata?.labels ?? {}, pod.metadata?.labels ?? {})) this.enqueueServicesOf(old);
      },
      onDelete: (object) => this.enqueueServicesOf(deletedObject(object)),
    });
    // Someone deleted or edited our Endpoints: put them back.
    endpointsInformer.addEventHandler({
      onUpdate: (_old, endpoints) => this.enqueueIfService(endpoints),
      onDelete: (object) => this.enqueueIfService(deletedObject(object)),
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const service = this.services.get(namespace, name);
    if (service === undefined) {
      // The Service is gone; its Endpoints go too (the garbage collector would not: they have no owner reference).
      if (this.endpoints.get(namespace, name) === undefined) return;
      try {
        await this.client.endpoints(namespace).delete(name);
        this.logger.info('deleted endpoints of a deleted service', { controller: this.name, endpoints: key });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      return;
    }
    if (service.spec?.selector === undefined || service.spec.selector === null) return;
    const subsets = this.subsetsFor(service);
    const labels: Record<string, string> = { ...(service.metadata?.labels ?? {}) };
    if (service.spec.clusterIP === 'None') labels[HEADLESS_SERVICE_LABEL] = '';
    const current = this.endpoints.get(namespace, name);
    if (current !== undefined && jsonEqual(current.subsets ?? [], subsets) && jsonEqual(current.metadata?.labels ?? {}, labels)) return;
    const desired: Endpoints = current === undefined ? { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace } } : deepCopy(current);
    const meta = desired.metadata as NonNullable<Endpoints['metadata']>;
    if (Object.keys(labels).length > 0) meta.labels = labels;
    else delete meta.labels;
    desired.subsets = subsets;
    const counts = { ready: countOf(subsets, 'addresses'), notReady: countOf(subsets, 'notReadyAddresses') };
    if (current === undefined) {
      // AlreadyExists (created meanwhile) fails the sync; the retry sees the object in the cache and updates it.
      await this.client.endpoints(namespace).create(desired);
    } else {
      await this.client.endpoints(namespace).update(desired);
    }
    this.logger.info('endpoints updated', { controller: this.name, endpoints: key, ...counts });
  }

  /** The subsets of a Service's Endpoints, grouped by identical port lists and sorted, as upstream's RepackSubsets. */
  subsetsFor(service: Service): EndpointSubset[] {
    const namespace = service.metadata?.namespace ?? '';
    const publishNotReady = service.spec?.publishNotReadyAddresses === true;
    const ports = service.spec?.ports ?? [];
    const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
    for (const pod of this.pods.namespace(namespace).list(selectorFromSet(service.spec?.selector ?? {}))) {
      if (!pod.status?.podIP || isPodTerminal(pod)) continue;
      if (pod.metadata?.deletionTimestamp !== undefined && !publishNotReady) continue;
      const address = addressOf(pod, service);
      const podPorts: EndpointPort[] = [];
      for (const servicePort of ports) {
        const port = resolvePort(pod, servicePort);
        if (port === undefined) continue;
        const endpointPort: EndpointPort = { port, protocol: servicePort.protocol ?? 'TCP' };
        if (servicePort.name) endpointPort.name = servicePort.name;
        if (servicePort.appProtocol) endpointPort.appProtocol = servicePort.appProtocol;
        podPorts.push(endpointPort);
      }
      // A pod serving none of several ports is not an endpoint; a Service with no ports lists bare addresses (headless).
      if (ports.length > 0 && podPorts.length === 0) continue;
      podPorts.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port);
      const groupKey = JSON.stringify(podPorts);
      let group = groups.get(groupKey);
      if (group === undefined) {
        group = { ports: podPorts, ready: [], notReady: [] };
        groups.set(groupKey, group);
      }
      (publishNotReady || isPodReady(pod) ? group.ready : group.notReady).push(address);
    }
    const byIp = (a: EndpointAddress, b: EndpointAddress): number => a.ip.localeCompare(b.ip) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');
    return [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, group]) => {
        const subset: EndpointSubset = {};
        if (group.ready.length > 0) subset.addresses = group.ready.sort(byIp);
        if (group.notReady.length > 0) subset.notReadyAddresses = group.notReady.sort(byIp);
        if (group.ports.length > 0) subset.ports = group.ports;
        return subset;
      });
  }

  private enqueueServicesOf(pod: Pod): void {
    for (const service of this.services.namespace(pod.metadata?.namespace ?? '').list()) {
      const selector = service.spec?.selector;
      if (selector === undefined || selector === null) continue;
      if (selectorFromSet(selector).matches(pod.metadata?.labels)) this.enqueue(service);
    }
  }

  private enqueueIfService(endpoints: Endpoints): void {
    const service = this.services.get(endpoints.metadata?.namespace ?? '', endpoints.metadata?.name ?? '');
    if (service !== undefined) this.queue.add(objectKey(service));
  }
}

function addressOf(pod: Pod, service: Service): EndpointAddress {
  const address: EndpointAddress = { ip: pod.status?.podIP ?? '' };
  // A pod names itself in a headless Service's DNS when its subdomain is the Service.
  if (pod.spec?.hostname && pod.spec.subdomain === service.metadata?.name) address.hostname = pod.spec.hostname;
  if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
  address.targetRef = { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' };
  return address;
}

/** The pod's port for a service port (upstream FindPort): a number as is, a name looked up among its container ports with the same protocol. */
export function resolvePort(pod: Pod, servicePort: ServicePort): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (/^[0-9]+$/.test(target)) return Number(target);
  const protocol = servicePort.protocol ?? 'TCP';
  for (const container of pod.spec?.containers ?? []) {
    for (const port of container.ports ?? []) {
      if (port.name === target && (port.protocol ?? 'TCP') === protocol) return port.containerPort;
    }
  }
  return undefined;
}

function countOf(subsets: EndpointSubset[], field: 'addresses' | 'notReadyAddresses'): number {
  return subsets.reduce((total, subset) => total + (subset[field]?.length ?? 0), 0);
}
