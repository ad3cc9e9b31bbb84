// networking.k8s.io types: Ingress v1 (stored), Ingress v1beta1 (served, converted), IngressClass.
import type { KubeList, ObjectMeta, TypeMeta } from './meta';
import type { LoadBalancerIngress, TypedLocalObjectReference } from './core';
import type { IntOrString } from '../intstr';

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface ServiceBackendPort {
  name?: string;
  number?: number;
}

export interface IngressServiceBackend {
  name: string;
  port?: ServiceBackendPort;
}

export interface IngressBackend {
  service?: IngressServiceBackend;
  resource?: TypedLocalObjectReference;
}

export interface HTTPIngressPath {
  path?: string;
  pathType?: PathType;
  backend: IngressBackend;
}

export interface IngressRule {
  host?: string;
  http?: { paths: HTTPIngressPath[] };
}

export interface IngressTLS {
  hosts?: string[];
  secretName?: string;
}

export interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: IngressBackend;
  tls?: IngressTLS[];
  rules?: IngressRule[];
}

export interface IngressStatus {
  loadBalancer?: { ingress?: LoadBalancerIngress[] };
}

export interface Ingress extends TypeMeta {
  metadata?: ObjectMeta;
  spec?: IngressSpec;
  status?: IngressStatus;
}
export type IngressList = KubeList<Ingress>;

export interface IngressClass extends TypeMeta {
  metadata?: ObjectMeta;
  spec?: {
    controller?: string;
    parameters?: TypedLocalObjectReference & { scope?: 'Cluster' | 'Namespace'; namespace?: string };
  };
}
export type IngressClassList = KubeList<IngressClass>;

// ---- networking.k8s.io/v1beta1 (removed upstream in 1.22; served here for old manifests) ----

export interface IngressBackendV1beta1 {
  serviceName?: string;
  servicePort?: IntOrString;
  resource?: TypedLocalObjectReference;
}

export interface HTTPIngressPathV1beta1 {
  path?: string;
  pathType?: PathType;
  backend: IngressBackendV1beta1;
}

export interface IngressRuleV1beta1 {
  host?: string;
  http?: { paths: HTTPIngressPathV1beta1[] };
}

export interface IngressSpecV1beta1 {
  ingressClassName?: string;
  backend?: IngressBackendV1beta1;
  tls?: IngressTLS[];
  rules?: IngressRuleV1beta1[];
}

export interface IngressV1beta1 extends TypeMeta {
  metadata?: ObjectMeta;
  spec?: IngressSpecV1beta1;
  status?: IngressStatus;
}
