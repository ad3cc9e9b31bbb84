import {
  apiGroups,
  apiResourceList,
  convertObject,
  parseApiVersion,
  resolveResource,
  resourceFor,
  resourceForGVK,
  resourceForObject,
  resourceForShortName,
  scaleOf,
  storageKey,
  storageKeyPrefix,
  withScaleReplicas,
} from './scheme';
import { ConversionError } from './errors';
import type { Deployment } from './types/apps';
import type { IngressV1beta1 } from './types/networking';

describe('lookups', () => {
  test.each([
    ['po', '', 'pods'],
    ['svc', '', 'services'],
    ['deploy', 'apps', 'deployments'],
    ['rs', 'apps', 'replicasets'],
    ['sts', 'apps', 'statefulsets'],
    ['ds', 'apps', 'daemonsets'],
    ['cm', '', 'configmaps'],
    ['ns', '', 'namespaces'],
    ['no', '', 'nodes'],
    ['ep', '', 'endpoints'],
    ['ev', '', 'events'],
    ['sa', '', 'serviceaccounts'],
    ['pvc', '', 'persistentvolumeclaims'],
    ['hpa', 'autoscaling', 'horizontalpodautoscalers'],
    ['ing', 'networking.k8s.io', 'ingresses'],
    ['cj', 'batch', 'cronjobs'],
  ])('short name %s -> %s/%s', (short, group, resource) => {
    const info = resourceForShortName(short);
    expect(info?.group).toBe(group);
    expect(info?.resource).toBe(resource);
  });

  test.each([
    ['pods', '', 'Pod'],
    ['pod', '', 'Pod'],
    ['Pod', '', 'Pod'],
    ['deployments.apps', 'apps', 'Deployment'],
    ['deploy.apps', 'apps', 'Deployment'],
    ['pods.metrics.k8s.io', 'metrics.k8s.io', 'PodMetrics'],
    ['jobs', 'batch', 'Job'],
  ])('resolveResource(%s)', (name, group, kind) => {
    const info = resolveResource(name);
    expect(info?.group).toBe(group);
    expect(info?.kind).toBe(kind);
  });

  test('unknown names resolve to nothing', () => {
    expect(resolveResource('widgets')).toBeUndefined();
    expect(resourceForShortName('zz')).toBeUndefined();
  });

  test('by GVK, by object, by resource', () => {
    expect(resourceForGVK({ group: 'networking.k8s.io', version: 'v1beta1', kind: 'Ingress' })?.resource).toBe('ingresses');
    expect(resourceForGVK({ group: 'apps', version: 'v1beta1', kind: 'Deployment' })).toBeUndefined();
    expect(resourceForObject({ apiVersion: 'batch/v1', kind: 'CronJob' })?.shortNames).toEqual(['cj']);
    expect(resourceFor('', 'nodes')?.namespaced).toBe(false);
    expect(resourceFor('apps', 'deployments', 'v1')?.listKind).toBe('DeploymentList');
    expect(parseApiVersion('v1')).toEqual({ group: '', version: 'v1' });
    expect(parseApiVersion('rbac.authorization.k8s.io/v1')).toEqual({ group: 'rbac.authorization.k8s.io', version: 'v1' });
  });

  test('categories and subresources', () => {
    const pods = resourceFor('', 'pods');
    expect(pods?.categories).toEqual(['all']);
    expect(pods?.subresources.map((s) => s.name)).toEqual(['status', 'binding', 'eviction', 'log', 'exec', 'attach', 'portforward']);
    expect(resourceFor('', 'configmaps')?.categories).toEqual([]);
    expect(resourceFor('apps', 'deployments')?.subresources.find((s) => s.name === 'scale')).toMatchObject({ kind: 'Scale', group: 'autoscaling', version: 'v1' });
  });
});

describe('storage keys', () => {
  test.each([
    ['', 'pods', 'default', 'web', '/registry/pods/default/web'],
    ['', 'services', 'default', 'svc', '/registry/services/specs/default/svc'],
    ['', 'endpoints', 'default', 'svc', '/registry/services/endpoints/default/svc'],
    ['', 'nodes', undefined, 'n1', '/registry/minions/n1'],
    ['', 'namespaces', undefined, 'kube-system', '/registry/namespaces/kube-system'],
    ['apps', 'deployments', 'ns1', 'd', '/registry/deployments/ns1/d'],
    ['networking.k8s.io', 'ingresses', 'ns1', 'i', '/registry/ingress/ns1/i'],
    ['rbac.authorization.k8s.io', 'clusterroles', undefined, 'admin', '/registry/clusterroles/admin'],
  ])('%s/%s', (group, resource, namespace, name, key) => {
    const info = resourceFor(group, resource)!;
    expect(storageKey(info, namespace, name)).toBe(key);
  });

  test('prefixes end with a slash; metrics are not stored', () => {
    expect(storageKeyPrefix(resourceFor('', 'pods')!, 'default')).toBe('/registry/pods/default/');
    expect(storageKeyPrefix(resourceFor('', 'pods')!)).toBe('/registry/pods/');
    expect(() => storageKeyPrefix(resourceFor('metrics.k8s.io', 'pods')!)).toThrow(ConversionError);
  });
});

describe('discovery', () => {
  test('core v1 lists pods/eviction in group policy v1 (drain needs it)', () => {
    const list = apiResourceList('', 'v1');
    expect(list.groupVersion).toBe('v1');
    expect(list.resources.find((r) => r.name === 'pods/eviction')).toMatchObject({ group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] });
    expect(list.resources.find((r) => r.name === 'pods')).toMatchObject({ singularName: 'pod', namespaced: true, shortNames: ['po'], categories: ['all'] });
  });

  test('apps/v1 has deployments/scale', () => {
    const list = apiResourceList('apps', 'v1');
    expect(list.groupVersion).toBe('apps/v1');
    expect(list.resources.find((r) => r.name === 'deployments/scale')?.kind).toBe('Scale');
  });

  test('groups list preferred versions', () => {
    const groups = apiGroups();
    expect(groups.map((g) => g.name)).toEqual([
      'apps',
      'batch',
      'autoscaling',
      'networking.k8s.io',
      'coordination.k8s.io',
      'policy',
      'rbac.authorization.k8s.io',
      'storage.k8s.io',
      'metrics.k8s.io',
    ]);
    const networking = groups.find((g) => g.name === 'networking.k8s.io');
    expect(networking?.preferredVersion?.groupVersion).toBe('networking.k8s.io/v1');
    expect(networking?.versions.map((v) => v.version)).toEqual(['v1', 'v1beta1']);
  });
});

describe('conversion', () => {
  const v1beta1: IngressV1beta1 = {
    apiVersion: 'networking.k8s.io/v1beta1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      backend: { serviceName: 'default-svc', servicePort: 80 },
      rules: [
        {
          host: 'example.com',
          http: {
            paths: [
              { path: '/', backend: { serviceName: 'web', servicePort: 'http' } },
              { path: '/api', pathType: 'Prefix', backend: { serviceName: 'api', servicePort: 8080 } },
            ],
          },
        },
      ],
    },
  };

  test('v1beta1 -> v1', () => {
    const v1 = convertObject(v1beta1, 'v1');
    expect(v1).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        defaultBackend: { service: { name: 'default-svc', port: { number: 80 } } },
        rules: [
          {
            host: 'example.com',
            http: {
              paths: [
                { path: '/', pathType: 'ImplementationSpecific', backend: { service: { name: 'web', port: { name: 'http' } } } },
                { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 8080 } } } },
              ],
            },
          },
        ],
      },
    });
  });

  test('v1 -> v1beta1 -> v1 round trip', () => {
    const v1 = convertObject(v1beta1, 'v1');
    const back = convertObject(convertObject(v1, 'v1beta1'), 'v1');
    expect(back).toEqual(v1);
    expect((convertObject(v1, 'v1beta1') as IngressV1beta1).spec?.rules?.[0]?.http?.paths[0]?.backend).toEqual({ serviceName: 'web', servicePort: 'http' });
  });

  test.each([
    [{ apiVersion: 'apps/v1', kind: 'Deployment' }, 'v2', 'Deployment cannot be converted to version "apps/v2"'],
    [{ apiVersion: 'apps/v9', kind: 'Deployment' }, 'v1', 'no kind "Deployment" is registered for version "apps/v9"'],
    [{ kind: 'Deployment' }, 'v1', 'object has no apiVersion or kind'],
  ])('%j to %s fails', (object, version, message) => {
    expect(() => convertObject(object, version)).toThrow(message);
  });
});

describe('Scale', () => {
  const deployment: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7' },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: {} },
    status: { replicas: 2 },
  };

  test('scaleOf', () => {
    expect(scaleOf(deployment)).toEqual({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name: 'web', namespace: 'default', uid: 'u1', resourceVersion: '7' },
      spec: { replicas: 3 },
      status: { replicas: 2, selector: 'app=web' },
    });
  });

  test('withScaleReplicas copies', () => {
    const scaled = withScaleReplicas(deployment, { spec: { replicas: 5 } });
    expect(scaled.spec?.replicas).toBe(5);
    expect(deployment.spec?.replicas).toBe(3);
  });
});
