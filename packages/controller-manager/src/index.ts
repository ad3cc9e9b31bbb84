// @kube-lite/controller-manager: the controllers that drive actual state to
// desired state, and the component that runs them (kube-controller-manager).
export { ControllerManager, type ControllerManagerOptions, type LeaderElectionSettings } from './controller-manager';
export { DEFAULT_CONTROLLER_SETTINGS, QueueController, type Controller, type ControllerContext, type ControllerSettings } from './controller';
export { CONTROLLER_DESCRIPTORS, KNOWN_CONTROLLERS, resolveControllers, UnknownControllerError, type ControllerDescriptor } from './registry';
export { ControllerMetrics } from './metrics';
export { clientOptionsFromFlags, FlagError, parseFlags, type ControllerManagerFlags } from './server';
export { DeploymentController } from './controllers/deployment/controller';
export { ReplicaSetController } from './controllers/replicaset/controller';
export { EndpointController } from './controllers/endpoint/controller';
export { GarbageCollector } from './controllers/garbagecollector/controller';
export { clientNamespaceFinalizer, NamespaceController, type NamespaceFinalizer } from './controllers/namespace/controller';
export { NodeLifecycleController } from './controllers/nodelifecycle/controller';
