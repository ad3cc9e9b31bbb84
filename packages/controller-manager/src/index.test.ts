// What other packages import must load through index.ts.
import * as entry from './index';

describe('@kube-lite/controller-manager entry', () => {
  it.each(['ControllerManager', 'QueueController', 'resolveControllers', 'parseFlags', 'clientOptionsFromFlags', 'DeploymentController', 'ReplicaSetController', 'EndpointController', 'GarbageCollector', 'NamespaceController', 'NodeLifecycleController'])(
    'exports %s',
    (name) => {
      expect((entry as Record<string, unknown>)[name]).toBeDefined();
    },
  );

  it('registers every controller under its upstream name', () => {
    expect([...entry.KNOWN_CONTROLLERS].sort()).toEqual([
      'cronjob',
      'daemonset',
      'deployment',
      'endpoint',
      'garbagecollector',
      'horizontalpodautoscaling',
      'job',
      'namespace',
      'nodelifecycle',
      'persistentvolume-binder',
      'replicaset',
      'statefulset',
      'ttl-after-finished',
    ]);
  });
});
