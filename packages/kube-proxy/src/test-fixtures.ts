// Small builders for Services, Endpoints and Ingresses used by the tests and the benchmark.
import type { EndpointSubset, Endpoints, Ingress, IngressSpec, Service, ServiceSpec } from '@kube-lite/api';

export function serviceOf(name: string, spec: ServiceSpec, namespace = 'default'): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, uid: `uid-svc-${namespace}-${name}` }, spec: { type: 'ClusterIP', ...spec } };
}

export function endpointsOf(name: string, subsets: EndpointSubset[], namespace = 'default'): Endpoints {
  return { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace }, subsets };
}

export function ingressOf(name: string, spec: IngressSpec, options: { namespace?: string; annotations?: Record<string, string> } = {}): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: options.namespace ?? 'default', ...(options.annotations ? { annotations: options.annotations } : {}) },
    spec,
  };
}
