// Bodies captured from the real kubectl v1.32 (testdata/*.pb, written by
// kubectl-protobuf.test.ts with KUBE_LITE_UPDATE_PROTOBUF_GOLDEN=1) and the
// JSON object each must decode to: what kubectl's JSON for the same command
// holds, less `creationTimestamp: null`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeProtobufObject } from './decode';

const rbac = 'rbac.authorization.k8s.io';

const cases: { file: string; expected: Record<string, unknown> }[] = [
  { file: 'configmap', expected: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { a: 'b', empty: '' } } },
  { file: 'secret', expected: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec' }, data: { password: Buffer.from('s3cret').toString('base64') } } },
  { file: 'namespace', expected: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' }, spec: {}, status: {} } },
  { file: 'serviceaccount', expected: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } } },
  {
    file: 'service',
    expected: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'backend', labels: { app: 'backend' } },
      spec: { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 'backend' }, type: 'ClusterIP' },
      status: { loadBalancer: {} },
    },
  },
  {
    file: 'deployment',
    expected: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'ml-serving', image: 'ml-serving:1.0', ports: [{ containerPort: 80 }], resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    },
  },
  {
    file: 'job',
    expected: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'hello' },
      spec: { template: { metadata: {}, spec: { containers: [{ name: 'hello', image: 'busybox', command: ['echo', 'hi'], resources: {} }], restartPolicy: 'Never' } } },
      status: {},
    },
  },
  {
    file: 'cronjob',
    expected: {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick' },
      spec: {
        schedule: '*/1 * * * *',
        jobTemplate: {
          metadata: { name: 'tick' },
          spec: { template: { metadata: {}, spec: { containers: [{ name: 'tick', image: 'busybox', command: ['date'], resources: {} }], restartPolicy: 'OnFailure' } } },
        },
      },
      status: {},
    },
  },
  {
    file: 'role',
    expected: {
      apiVersion: `${rbac}/v1`,
      kind: 'Role',
      metadata: { name: 'reader' },
      rules: [
        { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
        { verbs: ['get', 'list'], apiGroups: ['apps'], resources: ['deployments'] },
      ],
    },
  },
  {
    file: 'rolebinding',
    expected: {
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name: 'reader-binding' },
      subjects: [
        { kind: 'User', apiGroup: rbac, name: 'alice' },
        { kind: 'ServiceAccount', name: 'robot', namespace: 'default' },
      ],
      roleRef: { apiGroup: rbac, kind: 'Role', name: 'reader' },
    },
  },
  {
    file: 'clusterrole',
    expected: { apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name: 'node-reader' }, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['nodes'] }] },
  },
  {
    file: 'clusterrolebinding',
    expected: {
      apiVersion: `${rbac}/v1`,
      kind: 'ClusterRoleBinding',
      metadata: { name: 'node-reader-binding' },
      subjects: [{ kind: 'Group', apiGroup: rbac, name: 'ops' }],
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'node-reader' },
    },
  },
  {
    file: 'ingress',
    expected: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'site' },
      spec: {
        rules: [
          { host: 'example.com', http: { paths: [{ path: '/app', pathType: 'Prefix', backend: { service: { name: 'backend', port: { number: 80 } } } }] } },
          { http: { paths: [{ path: '/exact', pathType: 'Exact', backend: { service: { name: 'backend', port: { name: 'http' } } } }] } },
        ],
      },
      status: { loadBalancer: {} },
    },
  },
  {
    file: 'poddisruptionbudget',
    expected: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web-pdb' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } }, status: {} },
  },
];

describe('golden bodies from kubectl v1.32', () => {
  test.each(cases)('$file.pb', ({ file, expected }) => {
    const body = readFileSync(join(__dirname, 'testdata', `${file}.pb`));
    expect(body.subarray(0, 4).toString('binary')).toBe('k8s\0');
    expect(decodeProtobufObject(body)).toEqual(expected);
  });
});
