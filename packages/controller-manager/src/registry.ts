// The controllers this manager can run, by their upstream names, and the
// --controllers selection syntax: "*" (all), "name" (enable), "-name"
// (disable), comma-separated, e.g. "*,-garbagecollector".
import type { Controller, ControllerContext } from './controller';
import { DeploymentController, DEPLOYMENT_CONTROLLER_NAME } from './controllers/deployment/controller';
import { EndpointController, ENDPOINT_CONTROLLER_NAME } from './controllers/endpoint/controller';
import { GarbageCollector, GARBAGE_COLLECTOR_CONTROLLER_NAME } from './controllers/garbagecollector/controller';
import { NamespaceController, NAMESPACE_CONTROLLER_NAME } from './controllers/namespace/controller';
import { NodeLifecycleController, NODE_LIFECYCLE_CONTROLLER_NAME } from './controllers/nodelifecycle/controller';
import { HorizontalPodAutoscalerController, HORIZONTAL_POD_AUTOSCALER_CONTROLLER_NAME } from './controllers/podautoscaler/controller';
import { ReplicaSetController, REPLICA_SET_CONTROLLER_NAME } from './controllers/replicaset/controller';
import { StatefulSetController, STATEFUL_SET_CONTROLLER_NAME } from './controllers/statefulset/controller';
import { DaemonSetController, DAEMON_SET_CONTROLLER_NAME } from './controllers/daemonset/controller';
import { PersistentVolumeBinderController, PERSISTENT_VOLUME_BINDER_CONTROLLER_NAME } from './controllers/volume/controller';
import { JobController, JOB_CONTROLLER_NAME } from './controllers/job/controller';
import { TtlAfterFinishedController, TTL_AFTER_FINISHED_CONTROLLER_NAME } from './controllers/job/ttl-after-finished';
import { CronJobController, CRONJOB_CONTROLLER_NAME } from './controllers/cronjob/controller';

export interface ControllerDescriptor {
  /** The name --controllers uses. */
  name: string;
  /** The --concurrent-*-syncs flag setting its worker count, when it has one. */
  concurrencyFlag?: string;
  /** Workers when no flag says otherwise (upstream's defaults). */
  defaultWorkers: number;
  create(context: ControllerContext): Controller;
}

export const CONTROLLER_DESCRIPTORS: readonly ControllerDescriptor[] = [
  { name: DEPLOYMENT_CONTROLLER_NAME, concurrencyFlag: 'concurrent-deployment-syncs', defaultWorkers: 5, create: (context) => new DeploymentController(context) },
  { name: REPLICA_SET_CONTROLLER_NAME, concurrencyFlag: 'concurrent-replicaset-syncs', defaultWorkers: 5, create: (context) => new ReplicaSetController(context) },
  { name: ENDPOINT_CONTROLLER_NAME, concurrencyFlag: 'concurrent-endpoint-syncs', defaultWorkers: 5, create: (context) => new EndpointController(context) },
  { name: GARBAGE_COLLECTOR_CONTROLLER_NAME, concurrencyFlag: 'concurrent-gc-syncs', defaultWorkers: 20, create: (context) => new GarbageCollector(context) },
  { name: NAMESPACE_CONTROLLER_NAME, concurrencyFlag: 'concurrent-namespace-syncs', defaultWorkers: 10, create: (context) => new NamespaceController(context) },
  { name: NODE_LIFECYCLE_CONTROLLER_NAME, defaultWorkers: 2, create: (context) => new NodeLifecycleController(context) },
  { name: STATEFUL_SET_CONTROLLER_NAME, concurrencyFlag: 'concurrent-statefulset-syncs', defaultWorkers: 5, create: (context) => new StatefulSetController(context) },
  { name: DAEMON_SET_CONTROLLER_NAME, concurrencyFlag: 'concurrent-daemonset-syncs', defaultWorkers: 2, create: (context) => new DaemonSetController(context) },
  {
    name: HORIZONTAL_POD_AUTOSCALER_CONTROLLER_NAME,
    concurrencyFlag: 'concurrent-horizontal-pod-autoscaler-syncs',
    defaultWorkers: 5,
    create: (context) => new HorizontalPodAutoscalerController(context),
  },
  // One worker, as upstream's volume controller: binding decisions stay simple to follow.
  { name: PERSISTENT_VOLUME_BINDER_CONTROLLER_NAME, defaultWorkers: 1, create: (context) => new PersistentVolumeBinderController(context) },
  { name: JOB_CONTROLLER_NAME, concurrencyFlag: 'concurrent-job-syncs', defaultWorkers: 5, create: (context) => new JobController(context) },
  { name: CRONJOB_CONTROLLER_NAME, concurrencyFlag: 'concurrent-cron-job-syncs', defaultWorkers: 5, create: (context) => new CronJobController(context) },
  { name: TTL_AFTER_FINISHED_CONTROLLER_NAME, concurrencyFlag: 'concurrent-ttl-after-finished-syncs', defaultWorkers: 5, create: (context) => new TtlAfterFinishedController(context) },
];

export const KNOWN_CONTROLLERS: readonly string[] = CONTROLLER_DESCRIPTORS.map((descriptor) => descriptor.name);

/** --controllers named a controller that does not exist. */
export class UnknownControllerError extends Error {
  override readonly name = 'UnknownControllerError';
  constructor(readonly controller: string) {
    super(`--controllers: unknown controller "${controller}"; known controllers: ${[...KNOWN_CONTROLLERS].sort().join(', ')} (use "*" for all, "-name" to disable one)`);
  }
}

/** The enabled controller names, in registry order, from --controllers items. */
export function resolveControllers(items: readonly string[]): string[] {
  let all = false;
  const enabled = new Set<string>();
  const disabled = new Set<string>();
  for (const raw of items) {
    const item = raw.trim();
    if (item === '') continue;
    if (item === '*') {
      all = true;
      continue;
    }
    const name = item.startsWith('-') ? item.slice(1) : item;
    if (!KNOWN_CONTROLLERS.includes(name)) throw new UnknownControllerError(name);
    (item.startsWith('-') ? disabled : enabled).add(name);
  }
  return KNOWN_CONTROLLERS.filter((name) => !disabled.has(name) && (all || enabled.has(name)));
}

export function descriptorOf(name: string): ControllerDescriptor {
  const descriptor = CONTROLLER_DESCRIPTORS.find((candidate) => candidate.name === name);
  if (descriptor === undefined) throw new UnknownControllerError(name);
  return descriptor;
}
