// Printers for networking, coordination, policy and RBAC kinds.

import { isDefaultStorageClass } from '@kube-lite/api';
import { ageSince } from './age';
import { NONE, count } from './helpers';
import { AGE_COLUMN, NAME_COLUMN, column, type KindPrinter } from './types';

/* eslint-disable @typescript-eslint/no-explicit-any */

function ingressHosts(ingress: any): string {
  const hosts: string[] = [];
  for (const rule of ingress.spec?.rules ?? []) if (rule?.host) hosts.push(rule.host);
  return hosts.length === 0 ? '*' : hosts.length > 4 ? `${hosts.slice(0, 4).join(',')} + ${hosts.length - 4} more...` : hosts.join(',');
}

function ingressAddress(ingress: any): string {
  return (ingress.status?.loadBalancer?.ingress ?? [])
    .map((entry: any) => entry?.ip || entry?.hostname)
    .filter((value: unknown) => typeof value === 'string' && value !== '')
    .join(',');
}

export const ingressPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Class', 'The name of the IngressClass resource that should be used for ingress.'),
    column('Hosts', 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'Ports of TLS configurations that open'),
    AGE_COLUMN,
  ],
  cells(ingress, nowMs) {
    const className = ingress.spec?.ingressClassName ?? ingress.metadata?.annotations?.['kubernetes.io/ingress.class'] ?? NONE;
    return [ingress.metadata?.name, className, ingressHosts(ingress), ingressAddress(ingress), (ingress.spec?.tls ?? []).length > 0 ? '80, 443' : '80', ageSince(ingress.metadata?.creationTimestamp, nowMs)];
  },
};

export const ingressClassPrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Controller', 'Controller that is responsible for handling this class'), column('Parameters', 'A reference to a resource with additional parameters'), AGE_COLUMN],
  cells(ingressClass, nowMs) {
    const parameters = ingressClass.spec?.parameters;
    const parametersText = parameters ? `${parameters.kind}/${parameters.name}` : NONE;
    return [ingressClass.metadata?.name, ingressClass.spec?.controller ?? '', parametersText, ageSince(ingressClass.metadata?.creationTimestamp, nowMs)];
  },
};

export const leasePrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Holder', 'The holder of the lease.'), AGE_COLUMN],
  cells: (lease, nowMs) => [lease.metadata?.name, lease.spec?.holderIdentity ?? '', ageSince(lease.metadata?.creationTimestamp, nowMs)],
};

export const podDisruptionBudgetPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Min Available', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'Calculated number of pods that may be disrupted at this time.', { type: 'integer' }),
    AGE_COLUMN,
  ],
  cells: (budget, nowMs) => [
    budget.metadata?.name,
    budget.spec?.minAvailable !== undefined ? String(budget.spec.minAvailable) : 'N/A',
    budget.spec?.maxUnavailable !== undefined ? String(budget.spec.maxUnavailable) : 'N/A',
    count(budget.status?.disruptionsAllowed),
    ageSince(budget.metadata?.creationTimestamp, nowMs),
  ],
};

export const roleBindingPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Role', 'Role of the binding.'),
    AGE_COLUMN,
    column('Users', 'Users in the binding.', { priority: 1 }),
    column('Groups', 'Groups in the binding.', { priority: 1 }),
    column('ServiceAccounts', 'ServiceAccounts in the binding.', { priority: 1 }),
  ],
  cells(binding, nowMs) {
    const subjects: any[] = binding.subjects ?? [];
    const names = (kind: string): string =>
      subjects
        .filter((subject) => subject?.kind === kind)
        .map((subject) => (kind === 'ServiceAccount' ? `${subject.namespace ?? ''}/${subject.name}` : subject.name))
        .join(', ');
    return [binding.metadata?.name, `${binding.roleRef?.kind ?? ''}/${binding.roleRef?.name ?? ''}`, ageSince(binding.metadata?.creationTimestamp, nowMs), names('User'), names('Group'), names('ServiceAccount')];
  },
};

export const rolePrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Created At', 'The time the role was created.', { type: 'date' })],
  cells: (role) => [role.metadata?.name, role.metadata?.creationTimestamp ?? ''],
};

export const controllerRevisionPrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Controller', 'Controller of the object.'), column('Revision', 'Revision of the ControllerRevision.', { type: 'integer' }), AGE_COLUMN],
  cells(revision, nowMs) {
    const owner = (revision.metadata?.ownerReferences ?? []).find((reference: any) => reference?.controller === true);
    const group = String(owner?.apiVersion ?? '').includes('/') ? `.${String(owner.apiVersion).split('/')[0]}` : '';
    const ownerText = owner ? `${String(owner.kind).toLowerCase()}${group}/${owner.name}` : NONE;
    return [revision.metadata?.name, ownerText, count(revision.revision), ageSince(revision.metadata?.creationTimestamp, nowMs)];
  },
};


export const storageClassPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Provisioner', 'provisioner indicates the type of the provisioner.'),
    column('ReclaimPolicy', 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.'),
    column('VolumeBindingMode', 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound. When unset, VolumeBindingImmediate is used.'),
    column('AllowVolumeExpansion', 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    AGE_COLUMN,
  ],
  cells(storageClass, nowMs) {
    // kubectl marks the default class in the name column, as upstream's printer does.
    const name = `${storageClass.metadata?.name ?? ''}${isDefaultStorageClass(storageClass) ? ' (default)' : ''}`;
    return [
      name,
      storageClass.provisioner ?? '',
      storageClass.reclaimPolicy ?? 'Delete',
      storageClass.volumeBindingMode ?? 'Immediate',
      storageClass.allowVolumeExpansion === true,
      ageSince(storageClass.metadata?.creationTimestamp, nowMs),
    ];
  },
};
