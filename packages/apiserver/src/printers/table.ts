// Builds meta.k8s.io Tables from objects with the kind's printer, or the
// default NAME/AGE table for kinds without one.

import { ageSince } from './age';
import { configMapPrinter, endpointsPrinter, eventPrinter, namespacePrinter, nodePrinter, persistentVolumeClaimPrinter, persistentVolumePrinter, podPrinter, secretPrinter, serviceAccountPrinter, servicePrinter } from './core';
import {
  controllerRevisionPrinter,
  ingressClassPrinter,
  ingressPrinter,
  leasePrinter,
  podDisruptionBudgetPrinter,
  roleBindingPrinter,
  rolePrinter,
  storageClassPrinter,
} from './others';
import { AGE_COLUMN, NAME_COLUMN, type KindPrinter, type Table, type TableRow } from './types';
import { cronJobPrinter, daemonSetPrinter, deploymentPrinter, horizontalPodAutoscalerPrinter, jobPrinter, replicaSetPrinter, statefulSetPrinter } from './workloads';

const PRINTERS: Record<string, KindPrinter> = {
  Pod: podPrinter,
  Service: servicePrinter,
  Node: nodePrinter,
  Namespace: namespacePrinter,
  ConfigMap: configMapPrinter,
  Secret: secretPrinter,
  ServiceAccount: serviceAccountPrinter,
  Event: eventPrinter,
  Endpoints: endpointsPrinter,
  PersistentVolumeClaim: persistentVolumeClaimPrinter,
  PersistentVolume: persistentVolumePrinter,
  Deployment: deploymentPrinter,
  ReplicaSet: replicaSetPrinter,
  StatefulSet: statefulSetPrinter,
  DaemonSet: daemonSetPrinter,
  Job: jobPrinter,
  CronJob: cronJobPrinter,
  HorizontalPodAutoscaler: horizontalPodAutoscalerPrinter,
  Ingress: ingressPrinter,
  IngressClass: ingressClassPrinter,
  Lease: leasePrinter,
  PodDisruptionBudget: podDisruptionBudgetPrinter,
  Role: rolePrinter,
  ClusterRole: rolePrinter,
  RoleBinding: roleBindingPrinter,
  ClusterRoleBinding: roleBindingPrinter,
  ControllerRevision: controllerRevisionPrinter,
  StorageClass: storageClassPrinter,
};

/** NAME and AGE, what upstream prints for kinds without their own columns. */
export const defaultPrinter: KindPrinter = {
  columns: [NAME_COLUMN, { ...AGE_COLUMN, description: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata' }],
  cells: (object, nowMs) => [object?.metadata?.name, ageSince(object?.metadata?.creationTimestamp, nowMs)],
};

export function printerFor(kind: string): KindPrinter {
  return PRINTERS[kind] ?? defaultPrinter;
}

export interface TableOptions {
  version: 'v1' | 'v1beta1';
  /** What each row's `object` carries: PartialObjectMetadata (Metadata, kubectl's default), the object, or nothing. */
  includeObject: 'None' | 'Metadata' | 'Object';
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
  nowMs: number;
}

interface Printable {
  apiVersion?: string;
  kind?: string;
  metadata?: object;
}

function rowObject(object: Printable, includeObject: TableOptions['includeObject'], tableVersion: string): unknown {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${tableVersion}`, metadata: object.metadata ?? {} };
}

/** A Table of `objects` of `kind`, one row each. */
export function buildTable(kind: string, objects: readonly Printable[], options: TableOptions): Table {
  const printer = printerFor(kind);
  const rows: TableRow[] = objects.map((object) => {
    const row: TableRow = { cells: printer.cells(object, options.nowMs) };
    const attached = rowObject(object, options.includeObject, options.version);
    if (attached !== undefined) row.object = attached;
    return row;
  });
  const metadata: Table['metadata'] = {};
  if (options.resourceVersion !== undefined) metadata.resourceVersion = options.resourceVersion;
  if (options.continue !== undefined && options.continue !== '') metadata.continue = options.continue;
  if (options.remainingItemCount !== undefined) metadata.remainingItemCount = options.remainingItemCount;
  return { kind: 'Table', apiVersion: `meta.k8s.io/${options.version}`, metadata, columnDefinitions: printer.columns, rows };
}
