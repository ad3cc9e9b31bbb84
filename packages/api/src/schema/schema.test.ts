import { applyDefaults } from '../defaults';
import type { KubeObject } from '../types/meta';
import { scaleOf } from '../scheme';
import { schemaAt, schemaFor, schemaKinds, unknownFieldMessage, unknownFields } from './index';
import { allResources, apiVersionOf } from '../scheme';

const fullDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    namespace: 'default',
    labels: { app: 'web' },
    annotations: { 'deployment.kubernetes.io/revision': '1' },
    uid: 'u',
    resourceVersion: '5',
    generation: 2,
    creationTimestamp: '2024-01-01T00:00:00Z',
    ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'y', controller: true, blockOwnerDeletion: true }],
    finalizers: ['a/b'],
    managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'apps/v1', time: '2024-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }],
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
    template: {
      metadata: { labels: { app: 'web' }, creationTimestamp: null },
      spec: {
        initContainers: [{ name: 'init', image: 'busybox', command: ['true'], restartPolicy: 'Always' }],
        containers: [
          {
            name: 'web',
            image: 'nginx',
            args: ['-g'],
            workingDir: '/',
            ports: [{ name: 'http', containerPort: 80, protocol: 'TCP', hostPort: 8080, hostIP: '0.0.0.0' }],
            env: [
              { name: 'A', value: 'b' },
              { name: 'B', valueFrom: { configMapKeyRef: { name: 'c', key: 'k', optional: true } } },
              { name: 'C', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
              { name: 'D', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
              { name: 'E', valueFrom: { resourceFieldRef: { containerName: 'web', resource: 'limits.cpu', divisor: '1m' } } },
            ],
            envFrom: [{ prefix: 'P_', configMapRef: { name: 'c' } }, { secretRef: { name: 's', optional: false } }],
            resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '100m' } },
            volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true, subPath: 'x' }],
            livenessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP', httpHeaders: [{ name: 'X', value: 'y' }] }, initialDelaySeconds: 3, periodSeconds: 5 },
            readinessProbe: { tcpSocket: { port: 80 } },
            startupProbe: { exec: { command: ['true'] }, failureThreshold: 30 },
            lifecycle: { preStop: { exec: { command: ['sleep', '5'] } }, postStart: { httpGet: { port: 80 } } },
            imagePullPolicy: 'IfNotPresent',
            securityContext: { runAsUser: 1000, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
            terminationMessagePath: '/dev/termination-log',
            terminationMessagePolicy: 'File',
            stdin: false,
            tty: false,
          },
        ],
        volumes: [
          { name: 'data', emptyDir: { sizeLimit: '1Gi', medium: 'Memory' } },
          { name: 'h', hostPath: { path: '/tmp', type: 'Directory' } },
          { name: 'c', configMap: { name: 'c', items: [{ key: 'a', path: 'b', mode: 420 }], defaultMode: 420 } },
          { name: 's', secret: { secretName: 's', optional: true } },
          { name: 'p', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }, { configMap: { name: 'c' } }] } },
          { name: 'd', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          { name: 'v', persistentVolumeClaim: { claimName: 'pvc', readOnly: false } },
        ],
        nodeSelector: { disk: 'ssd' },
        affinity: {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } },
          podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' } }] },
        },
        tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute', tolerationSeconds: 30 }],
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
        serviceAccountName: 'robot',
        securityContext: { fsGroup: 2000 },
        imagePullSecrets: [{ name: 'reg' }],
        hostAliases: [{ ip: '1.2.3.4', hostnames: ['a'] }],
        terminationGracePeriodSeconds: 10,
        priorityClassName: 'high',
        dnsConfig: { nameservers: ['1.1.1.1'], options: [{ name: 'ndots', value: '2' }] },
      },
    },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } },
    minReadySeconds: 0,
    revisionHistoryLimit: 10,
    progressDeadlineSeconds: 600,
    paused: false,
  },
  status: {
    observedGeneration: 2,
    replicas: 2,
    updatedReplicas: 2,
    readyReplicas: 2,
    availableReplicas: 2,
    conditions: [{ type: 'Available', status: 'True', lastUpdateTime: 't', lastTransitionTime: 't', reason: 'MinimumReplicasAvailable', message: 'ok' }],
  },
};

describe('unknownFields', () => {
  test('a full, realistic Deployment has no unknown fields', () => {
    expect(unknownFields('Deployment', applyDefaults(fullDeployment as KubeObject))).toEqual([]);
  });

  test.each([
    [{ apiVersion: 'apps/v1', kind: 'Deployment', spec: { foo: 1 } }, ['spec.foo']],
    [{ apiVersion: 'apps/v1', kind: 'Deployment', spec: { template: { spec: { containers: [{ name: 'a', imagee: 'x' }] } } } }, ['spec.template.spec.containers[0].imagee']],
    [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labelz: {} }, spec: { containers: [] } }, ['metadata.labelz']],
    [{ apiVersion: 'v1', kind: 'ConfigMap', data: { anything: 'goes' }, extra: true }, ['extra']],
    [{ apiVersion: 'v1', kind: 'Service', spec: { ports: [{ port: 80, targetport: 8080 }] } }, ['spec.ports[0].targetport']],
    [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { annotations: { 'a/b': 'c' } } }, []],
    [{ apiVersion: 'apps/v1', kind: 'ControllerRevision', data: { anything: { nested: true } }, revision: 1 }, []],
  ])('%j -> %j', (object, expected) => {
    expect(unknownFields(object.kind, object)).toEqual(expected);
  });

  test('v1beta1 Ingress uses its own schema', () => {
    const v1beta1 = { apiVersion: 'networking.k8s.io/v1beta1', kind: 'Ingress', spec: { backend: { serviceName: 's', servicePort: 80 } } };
    expect(unknownFields('Ingress', v1beta1)).toEqual([]);
    expect(unknownFields('Ingress', { ...v1beta1, apiVersion: 'networking.k8s.io/v1' })).toEqual(['spec.backend']);
  });

  test('message and unknown kinds', () => {
    expect(unknownFieldMessage('spec.foo')).toBe('unknown field "spec.foo"');
    expect(unknownFields('Widget', { a: 1 })).toEqual([]);
  });

  test('defaulted objects of every kind are inside their schema', () => {
    const samples = [
      { apiVersion: 'v1', kind: 'Service', spec: { type: 'LoadBalancer', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } },
      { apiVersion: 'batch/v1', kind: 'CronJob', spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } } } } },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', spec: { selector: {}, template: {}, volumeClaimTemplates: [{ metadata: { name: 'd' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] } },
      { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3, behavior: {} } },
      scaleOf({ metadata: { name: 'x' }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } } } }),
    ];
    for (const sample of samples) expect(unknownFields(sample.kind ?? '', applyDefaults(sample as KubeObject))).toEqual([]);
  });

  test('every stored resource has a schema for each served version', () => {
    for (const info of allResources()) {
      for (const version of info.versions) expect([info.kind, schemaFor(apiVersionOf(info.group, version), info.kind) !== undefined]).toEqual([info.kind, true]);
    }
    expect(schemaKinds().length).toBeGreaterThan(30);
  });
});

describe('patch metadata', () => {
  test.each([
    [['spec', 'template', 'spec', 'containers'], 'name'],
    [['spec', 'template', 'spec', 'containers', 'ports'], 'containerPort'],
    [['spec', 'template', 'spec', 'containers', 'env'], 'name'],
    [['spec', 'template', 'spec', 'containers', 'volumeMounts'], 'mountPath'],
    [['spec', 'template', 'spec', 'volumes'], 'name'],
    [['metadata', 'ownerReferences'], 'uid'],
    [['status', 'conditions'], 'type'],
  ])('Deployment %j merges on %s', (path, key) => {
    const schema = schemaAt(schemaFor('apps/v1', 'Deployment'), path);
    expect(schema).toMatchObject({ type: 'list', strategy: 'merge', mergeKey: key });
  });

  test.each([
    [['spec', 'template', 'spec', 'tolerations']],
    [['spec', 'template', 'spec', 'containers', 'args']],
  ])('Deployment %j is replaced', (path) => {
    expect(schemaAt(schemaFor('apps/v1', 'Deployment'), path)).toMatchObject({ type: 'list', strategy: 'replace' });
  });

  test('service ports merge on port; finalizers merge as a set', () => {
    expect(schemaAt(schemaFor('v1', 'Service'), ['spec', 'ports'])).toMatchObject({ strategy: 'merge', mergeKey: 'port' });
    expect(schemaAt(schemaFor('v1', 'Pod'), ['metadata', 'finalizers'])).toMatchObject({ strategy: 'merge' });
  });
});
