// Round trips: objects shaped like our .proto messages are encoded with
// protobufjs (as client-go frames them) and must decode to the Kubernetes
// JSON shape. Then every way a body is refused.

import { decodeObjectBody } from '../media';
import { StatusError } from '../status-error';
import { decodeProtobufObject } from './decode';
import { appendField, encodeBody, encodeEnvelope, encodeMessage } from './test-encoder';

const meta = (extra: Record<string, unknown> = {}) => ({ name: 'x', namespace: 'default', creationTimestamp: {}, ...extra });
const expectedMeta = { name: 'x', namespace: 'default' };

const container = {
  name: 'app',
  image: 'ml-serving:1.0',
  terminationMessagePath: '',
  imagePullPolicy: '',
  stdin: false,
  resources: { limits: { cpu: { string: '500m' }, memory: { string: '1Gi' } }, requests: { cpu: { string: '' } } },
  ports: [{ name: '', containerPort: 80, hostPort: 0, protocol: 'TCP' }],
  env: [
    { name: 'PLAIN', value: 'v' },
    { name: 'EMPTY', value: '' },
    { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { localObjectReference: { name: 'creds' }, key: 'password', optional: false } } },
  ],
  livenessProbe: { handler: { httpGet: { path: '/healthz', port: { type: 1, strVal: 'http' } } }, periodSeconds: 0, initialDelaySeconds: 5 },
  readinessProbe: { handler: { tcpSocket: { port: { type: 0, intVal: 80 } } } },
  volumeMounts: [{ name: 'cache', mountPath: '/cache', readOnly: false }],
};

const expectedContainer = {
  name: 'app',
  image: 'ml-serving:1.0',
  resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '0' } },
  ports: [{ containerPort: 80, protocol: 'TCP' }],
  env: [
    { name: 'PLAIN', value: 'v' },
    { name: 'EMPTY' },
    { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'creds', key: 'password', optional: false } } },
  ],
  livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, initialDelaySeconds: 5 },
  readinessProbe: { tcpSocket: { port: 80 } },
  volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
};

const podSpec = {
  containers: [container],
  volumes: [
    { name: 'cache', volumeSource: { emptyDir: { sizeLimit: { string: '1Gi' } } } },
    { name: 'settings', volumeSource: { configMap: { localObjectReference: { name: 'cfg' }, defaultMode: 420, items: [{ key: 'a', path: 'a.txt' }] } } },
  ],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 0,
  hostNetwork: false,
  automountServiceAccountToken: false,
  tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
};

const expectedPodSpec = {
  containers: [expectedContainer],
  volumes: [
    { name: 'cache', emptyDir: { sizeLimit: '1Gi' } },
    { name: 'settings', configMap: { name: 'cfg', defaultMode: 420, items: [{ key: 'a', path: 'a.txt' }] } },
  ],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 0,
  automountServiceAccountToken: false,
  tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
};

const roundTrips: { name: string; apiVersion: string; kind: string; message: string; value: Record<string, unknown>; expected: Record<string, unknown> }[] = [
  {
    name: 'ConfigMap: data kept with empty values, binaryData as base64, immutable false kept (pointer)',
    apiVersion: 'v1',
    kind: 'ConfigMap',
    message: 'k8s.io.api.core.v1.ConfigMap',
    value: { metadata: meta(), data: { a: 'b', empty: '' }, binaryData: { blob: Buffer.from([0, 1, 254]) }, immutable: false },
    expected: { metadata: expectedMeta, data: { a: 'b', empty: '' }, binaryData: { blob: 'AAH+' }, immutable: false },
  },
  {
    name: 'Secret: data bytes as base64, stringData and type',
    apiVersion: 'v1',
    kind: 'Secret',
    message: 'k8s.io.api.core.v1.Secret',
    value: { metadata: meta(), data: { password: Buffer.from('s3cret') }, stringData: { user: 'me' }, type: 'Opaque' },
    expected: { metadata: expectedMeta, data: { password: 'czNjcmV0' }, stringData: { user: 'me' }, type: 'Opaque' },
  },
  {
    name: 'ObjectMeta: times, int64, owner references, maps, lists, managed fields',
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    message: 'k8s.io.api.core.v1.ServiceAccount',
    value: {
      metadata: {
        name: 'x',
        generateName: '',
        uid: 'u-1',
        generation: 3,
        resourceVersion: '42',
        creationTimestamp: { seconds: 1767225600, nanos: 123 },
        deletionTimestamp: { seconds: 1767225630 },
        deletionGracePeriodSeconds: 0,
        labels: { app: 'web' },
        annotations: { note: '' },
        finalizers: ['example.com/keep'],
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-0', controller: true, blockOwnerDeletion: false }],
        managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: { seconds: 0 }, fieldsType: 'FieldsV1', fieldsV1: { Raw: Buffer.from('{"f:metadata":{}}') } }],
      },
      automountServiceAccountToken: false,
    },
    expected: {
      metadata: {
        name: 'x',
        uid: 'u-1',
        generation: 3,
        resourceVersion: '42',
        creationTimestamp: '2026-01-01T00:00:00Z',
        deletionTimestamp: '2026-01-01T00:00:30Z',
        deletionGracePeriodSeconds: 0,
        labels: { app: 'web' },
        annotations: { note: '' },
        finalizers: ['example.com/keep'],
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-0', controller: true, blockOwnerDeletion: false }],
        managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '1970-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': {} } }],
      },
      automountServiceAccountToken: false,
    },
  },
  {
    name: 'Pod: inline volume sources, probe handlers and key selectors; IntOrString; Quantity; zero plain fields dropped',
    apiVersion: 'v1',
    kind: 'Pod',
    message: 'k8s.io.api.core.v1.Pod',
    value: { metadata: meta(), spec: podSpec, status: { phase: '', podIP: '' } },
    expected: { metadata: expectedMeta, spec: expectedPodSpec, status: {} },
  },
  {
    name: 'Deployment: replicas 0 kept (pointer), empty strategy kept, IntOrString percentages',
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    message: 'k8s.io.api.apps.v1.Deployment',
    value: {
      metadata: meta(),
      spec: {
        replicas: 0,
        minReadySeconds: 0,
        paused: false,
        selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: { type: 1, strVal: '25%' }, maxUnavailable: { type: 0, intVal: 0 } } },
        template: { metadata: { labels: { app: 'web' }, creationTimestamp: {} }, spec: { containers: [{ name: 'c', image: 'i' }] } },
        revisionHistoryLimit: 10,
      },
      status: {},
    },
    expected: {
      metadata: expectedMeta,
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }] },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
        revisionHistoryLimit: 10,
      },
      status: {},
    },
  },
  {
    name: 'Service: targetPort always present, zero nodePort and empty clusterIP dropped, session affinity',
    apiVersion: 'v1',
    kind: 'Service',
    message: 'k8s.io.api.core.v1.Service',
    value: {
      metadata: meta(),
      spec: {
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: { type: 0, intVal: 0 }, nodePort: 0 }],
        selector: { app: 'web' },
        clusterIP: '',
        type: 'NodePort',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: {} },
    },
    expected: {
      metadata: expectedMeta,
      spec: {
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 0 }],
        selector: { app: 'web' },
        type: 'NodePort',
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: {} },
    },
  },
  {
    name: 'CronJob: suspend false and backoffLimit 0 kept (pointers), job template',
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    message: 'k8s.io.api.batch.v1.CronJob',
    value: {
      metadata: meta(),
      spec: {
        schedule: '*/5 * * * *',
        suspend: false,
        concurrencyPolicy: '',
        jobTemplate: { metadata: { name: 'x', creationTimestamp: {} }, spec: { backoffLimit: 0, completions: 1, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', command: ['date'] }] } } } },
      },
    },
    expected: {
      metadata: expectedMeta,
      spec: {
        schedule: '*/5 * * * *',
        suspend: false,
        jobTemplate: { metadata: { name: 'x' }, spec: { backoffLimit: 0, completions: 1, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', command: ['date'] }] } } } },
      },
    },
  },
  {
    name: 'ClusterRole: rules keep "" in apiGroups; aggregation rule',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    message: 'k8s.io.api.rbac.v1.ClusterRole',
    value: { metadata: { name: 'x' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], aggregationRule: { clusterRoleSelectors: [{ matchLabels: { agg: 'true' } }] } },
    expected: { metadata: { name: 'x' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }], aggregationRule: { clusterRoleSelectors: [{ matchLabels: { agg: 'true' } }] } },
  },
  {
    name: 'Ingress: inline rule value, default backend, TLS, class name',
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    message: 'k8s.io.api.networking.v1.Ingress',
    value: {
      metadata: meta(),
      spec: {
        ingressClassName: 'nginx',
        defaultBackend: { service: { name: 'fallback', port: { name: '', number: 8080 } } },
        tls: [{ hosts: ['example.com'], secretName: 'tls' }],
        rules: [{ host: 'example.com', ingressRuleValue: { http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] } } }],
      },
    },
    expected: {
      metadata: expectedMeta,
      spec: {
        ingressClassName: 'nginx',
        defaultBackend: { service: { name: 'fallback', port: { number: 8080 } } },
        tls: [{ hosts: ['example.com'], secretName: 'tls' }],
        rules: [{ host: 'example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }],
      },
    },
  },
  {
    name: 'PodDisruptionBudget: minAvailable 0 kept, maxUnavailable as a percentage',
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    message: 'k8s.io.api.policy.v1.PodDisruptionBudget',
    value: { metadata: meta(), spec: { minAvailable: { type: 0, intVal: 0 }, selector: {} } },
    expected: { metadata: expectedMeta, spec: { minAvailable: 0, selector: {} } },
  },
];

describe('decodeProtobufObject round trips', () => {
  test.each(roundTrips)('$name', ({ apiVersion, kind, message, value, expected }) => {
    const body = encodeBody({ apiVersion, kind }, message, value);
    expect(decodeProtobufObject(body)).toEqual({ apiVersion, kind, ...expected });
  });

  test('decodeObjectBody routes application/vnd.kubernetes.protobuf (with parameters) to the decoder', () => {
    const body = encodeBody({ apiVersion: 'v1', kind: 'Namespace' }, 'k8s.io.api.core.v1.Namespace', { metadata: { name: 'team' } });
    expect(decodeObjectBody('application/vnd.kubernetes.protobuf; charset=binary', body)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
  });

  test('unknown fields holding only zero values are accepted (newer plain Go fields are always on the wire)', () => {
    const zeroNested = Buffer.from([0x0a, 0x00, 0x10, 0x00]); // {1: "", 2: 0}
    const raw = appendField(appendField(encodeMessage('k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'x' } }), 90, Buffer.alloc(0)), 91, zeroNested);
    const body = encodeEnvelope({ typeMeta: { apiVersion: 'v1', kind: 'ConfigMap' }, raw });
    expect(decodeProtobufObject(body)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
  });
});

function failure(action: () => unknown): { code: number; message: string } | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (!(error instanceof StatusError)) throw error;
    return { code: error.code, message: error.message };
  }
}

const configMapRaw = encodeMessage('k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'x' } });
const configMapType = { apiVersion: 'v1', kind: 'ConfigMap' };

const refusals: { name: string; body: () => Buffer; code: number; message: RegExp }[] = [
  { name: 'no "k8s\\0" prefix', body: () => Buffer.from('{"kind":"ConfigMap"}'), code: 400, message: /does not start with the Kubernetes "k8s\\0" prefix/ },
  { name: 'truncated envelope', body: () => Buffer.concat([Buffer.from('k8s\0', 'binary'), Buffer.from([0x12, 0x40, 0x01])]), code: 400, message: /^malformed protobuf body/ },
  { name: 'truncated object', body: () => encodeEnvelope({ typeMeta: configMapType, raw: configMapRaw.subarray(0, 3) }), code: 400, message: /^malformed protobuf body/ },
  {
    name: 'a kind we do not decode',
    body: () => encodeEnvelope({ typeMeta: { apiVersion: 'v1', kind: 'ResourceQuota' }, raw: Buffer.alloc(0) }),
    code: 415,
    message: /kind ResourceQuota \(apiVersion v1\).*v1\/ConfigMap.*kubectl create -f FILE/,
  },
  { name: 'a known kind under another version', body: () => encodeEnvelope({ typeMeta: { apiVersion: 'apps/v1beta1', kind: 'Deployment' }, raw: Buffer.alloc(0) }), code: 415, message: /kind Deployment \(apiVersion apps\/v1beta1\)/ },
  { name: 'no type meta', body: () => encodeEnvelope({ raw: configMapRaw }), code: 415, message: /does not name its apiVersion and kind/ },
  { name: 'a compressed body', body: () => encodeEnvelope({ typeMeta: configMapType, raw: configMapRaw, contentEncoding: 'gzip' }), code: 415, message: /content encoding "gzip"/ },
  {
    name: 'an undeclared field with a value',
    body: () => encodeEnvelope({ typeMeta: configMapType, raw: appendField(configMapRaw, 99, Buffer.from('set')) }),
    code: 415,
    message: /ConfigMap \(field 99 of k8s\.io\.api\.core\.v1\.ConfigMap\)/,
  },
  {
    name: 'an undeclared volume source deep inside a Deployment',
    body: () => {
      // Nested by hand: Deployment{spec{template{spec{volumes: [a, b{volumeSource{3: gcePersistentDisk}}]}}}}.
      const none = Buffer.alloc(0);
      const volumeSource = appendField(none, 3, encodeMessage('k8s.io.api.core.v1.LocalObjectReference', { name: 'pd-1' }));
      const volume = appendField(encodeMessage('k8s.io.api.core.v1.Volume', { name: 'b' }), 2, volumeSource);
      const podSpec = appendField(encodeMessage('k8s.io.api.core.v1.PodSpec', { volumes: [{ name: 'a' }] }), 1, volume);
      const raw = appendField(none, 2, appendField(none, 3, appendField(none, 2, podSpec)));
      return encodeEnvelope({ typeMeta: { apiVersion: 'apps/v1', kind: 'Deployment' }, raw });
    },
    code: 415,
    message: /Deployment\.spec\.template\.spec\.volumes\[1\]\.volumeSource \(field 3 of k8s\.io\.api\.core\.v1\.VolumeSource\)/,
  },
  {
    name: 'an int64 beyond JSON numbers',
    body: () => encodeBody(configMapType, 'k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'x', generation: 2 ** 53 + 2 } }),
    code: 400,
    message: /ConfigMap\.metadata\.generation: 9007199254740994 does not fit/,
  },
  {
    name: 'a time past year 9999',
    body: () => encodeBody(configMapType, 'k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'x', creationTimestamp: { seconds: 253402300800 } } }),
    code: 400,
    message: /creationTimestamp: 253402300800s 0ns is not a valid time/,
  },
  {
    name: 'managed fields that are not JSON',
    body: () => encodeBody(configMapType, 'k8s.io.api.core.v1.ConfigMap', { metadata: { name: 'x', managedFields: [{ fieldsV1: { Raw: Buffer.from('{') } }] } }),
    code: 400,
    message: /managedFields\[0\]\.fieldsV1: managed fields are not valid JSON/,
  },
];

describe('decodeProtobufObject refuses', () => {
  test.each(refusals)('$name -> $code', ({ body, code, message }) => {
    const result = failure(() => decodeProtobufObject(body()));
    expect(result?.code).toBe(code);
    expect(result?.message).toMatch(message);
  });
});
