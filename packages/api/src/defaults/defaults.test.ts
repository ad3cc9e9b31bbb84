import { addDefaultTolerations, applyDefaults, defaultImagePullPolicy, generateJobSelector } from './index';
import type { Pod, Service } from '../types/core';
import type { DaemonSet, Deployment, StatefulSet } from '../types/apps';
import type { CronJob, Job } from '../types/batch';
import type { HorizontalPodAutoscaler } from '../types/autoscaling';

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } };

describe('imagePullPolicy', () => {
  test.each([
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['nginx:1.25', 'IfNotPresent'],
    ['localhost:5000/nginx', 'Always'],
    ['localhost:5000/nginx:2', 'IfNotPresent'],
    ['nginx@sha256:abcd', 'IfNotPresent'],
    ['nginx:latest@sha256:abcd', 'Always'],
    [undefined, 'Always'],
  ])('%p -> %s', (image, policy) => {
    expect(defaultImagePullPolicy(image)).toBe(policy);
  });
});

describe('pod defaults', () => {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: {
      serviceAccountName: 'robot',
      volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'cfg' } }],
      containers: [
        {
          name: 'c',
          image: 'nginx',
          ports: [{ containerPort: 80 }],
          resources: { limits: { cpu: '0.5', memory: '128Mi' }, requests: { cpu: '100m' } },
          livenessProbe: { httpGet: { port: 80 } },
          env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        },
      ],
    },
  };
  const defaulted = applyDefaults(pod);
  const container = defaulted.spec!.containers[0]!;

  test.each([
    ['restartPolicy', 'Always'],
    ['terminationGracePeriodSeconds', 30],
    ['dnsPolicy', 'ClusterFirst'],
    ['schedulerName', 'default-scheduler'],
    ['enableServiceLinks', true],
    ['serviceAccount', 'robot'],
  ])('spec.%s = %p', (field, value) => {
    expect((defaulted.spec as unknown as Record<string, unknown>)[field]).toEqual(value);
  });

  test('container defaults', () => {
    expect(container.terminationMessagePath).toBe('/dev/termination-log');
    expect(container.terminationMessagePolicy).toBe('File');
    expect(container.imagePullPolicy).toBe('Always');
    expect(container.ports![0]!.protocol).toBe('TCP');
    expect(container.livenessProbe).toEqual({ httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    expect(container.env![0]!.valueFrom!.fieldRef!.apiVersion).toBe('v1');
  });

  test('requests default from limits and quantities are canonical', () => {
    expect(container.resources).toEqual({ limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  });

  test('volumes', () => {
    expect(defaulted.spec!.volumes).toEqual([
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } },
    ]);
    expect(defaulted.spec!.securityContext).toEqual({});
  });

  test('input is not modified', () => {
    expect(pod.spec!.restartPolicy).toBeUndefined();
  });

  test('templates do not get requests from limits', () => {
    const deployment = applyDefaults<Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      spec: { selector: {}, template: { spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: '1' } } }] } } },
    });
    expect(deployment.spec!.template.spec!.containers[0]!.resources).toEqual({ limits: { cpu: '1' } });
    expect(deployment.spec!.template.spec!.enableServiceLinks).toBeUndefined();
  });

  test('hostNetwork copies containerPort to hostPort', () => {
    const defaultedHost = applyDefaults<Pod>({ kind: 'Pod', spec: { hostNetwork: true, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080 }] }] } });
    expect(defaultedHost.spec!.containers[0]!.ports![0]!.hostPort).toBe(8080);
  });
});

describe('workload defaults', () => {
  test('Deployment', () => {
    const d = applyDefaults<Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', spec: { selector: { matchLabels: { app: 'web' } }, template } });
    expect(d.spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    });
    expect(d.spec!.template.spec!.containers[0]!.imagePullPolicy).toBe('IfNotPresent');
  });

  test('Deployment Recreate gets no rollingUpdate', () => {
    const d = applyDefaults<Deployment>({ kind: 'Deployment', spec: { selector: {}, template, strategy: { type: 'Recreate' } } });
    expect(d.spec!.strategy).toEqual({ type: 'Recreate' });
  });

  test('StatefulSet', () => {
    const s = applyDefaults<StatefulSet>({ kind: 'StatefulSet', spec: { selector: {}, template } });
    expect(s.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
  });

  test('DaemonSet', () => {
    const ds = applyDefaults<DaemonSet>({ kind: 'DaemonSet', spec: { selector: {}, template } });
    expect(ds.spec!.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(ds.spec!.revisionHistoryLimit).toBe(10);
  });

  test.each([
    [{}, { parallelism: 1, completions: 1 }],
    [{ parallelism: 3 }, { parallelism: 3, completions: undefined }],
    [{ completions: 5 }, { parallelism: 1, completions: 5 }],
  ])('Job %j', (given, expected) => {
    const job = applyDefaults<Job>({ kind: 'Job', spec: { ...given, template } });
    expect(job.spec!.parallelism).toBe(expected.parallelism);
    expect(job.spec!.completions).toBe(expected.completions);
    expect(job.spec).toMatchObject({ backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed' });
  });

  test('Job selector generation', () => {
    const job: Job = { kind: 'Job', metadata: { name: 'pi', uid: 'u-1' }, spec: { template: { spec: { containers: [] } } } };
    generateJobSelector(job);
    expect(job.spec!.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': 'u-1' } });
    expect(job.spec!.template.metadata!.labels).toEqual({
      'batch.kubernetes.io/controller-uid': 'u-1',
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': 'u-1',
      'job-name': 'pi',
    });
  });

  test('CronJob', () => {
    const cj = applyDefaults<CronJob>({ kind: 'CronJob', spec: { schedule: '* * * * *', jobTemplate: { spec: { template } } } });
    expect(cj.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(cj.spec!.jobTemplate.spec!.template.spec!.restartPolicy).toBe('Always');
  });
});

describe('other defaults', () => {
  test('Service', () => {
    const service = applyDefaults<Service>({ kind: 'Service', spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { port: 443, targetPort: 'https' }] } });
    expect(service.spec).toEqual({
      type: 'ClusterIP',
      sessionAffinity: 'None',
      selector: { app: 'web' },
      ports: [
        { port: 80, protocol: 'TCP', targetPort: 80 },
        { port: 443, protocol: 'TCP', targetPort: 'https' },
      ],
      internalTrafficPolicy: 'Cluster',
      ipFamilyPolicy: 'SingleStack',
      ipFamilies: ['IPv4'],
    });
  });

  test('NodePort service gets externalTrafficPolicy; ExternalName no families', () => {
    expect(applyDefaults<Service>({ kind: 'Service', spec: { type: 'NodePort' } }).spec!.externalTrafficPolicy).toBe('Cluster');
    expect(applyDefaults<Service>({ kind: 'Service', spec: { type: 'ExternalName', externalName: 'x.com' } }).spec!.ipFamilies).toBeUndefined();
  });

  test.each([
    [{ kind: 'Secret' }, { type: 'Opaque' }],
    [{ kind: 'Namespace' }, { status: { phase: 'Active' } }],
    [{ kind: 'ConfigMap', data: { a: 'b' } }, { data: { a: 'b' } }],
    [
      { kind: 'RoleBinding', subjects: [{ kind: 'User', name: 'u' }, { kind: 'ServiceAccount', name: 's', namespace: 'n' }] },
      { subjects: [{ kind: 'User', name: 'u', apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'ServiceAccount', name: 's', namespace: 'n', apiGroup: '' }] },
    ],
  ])('%j', (object, expected) => {
    expect(applyDefaults(object)).toMatchObject(expected);
  });

  test('HPA', () => {
    const hpa = applyDefaults<HorizontalPodAutoscaler>({ kind: 'HorizontalPodAutoscaler', spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5 } });
    expect(hpa.spec!.minReplicas).toBe(1);
    expect(hpa.spec!.metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
    expect(hpa.spec!.behavior).toBeUndefined();
    const withBehavior = applyDefaults<HorizontalPodAutoscaler>({
      kind: 'HorizontalPodAutoscaler',
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } },
    });
    expect(withBehavior.spec!.behavior).toEqual({
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
    });
  });
});

describe('admission default tolerations', () => {
  test.each([
    [[], 2],
    [[{ key: 'node.kubernetes.io/not-ready', operator: 'Exists' as const, effect: 'NoExecute' as const }], 2],
    [[{ operator: 'Exists' as const }], 1],
  ])('given %j ends with %d tolerations', (tolerations, count) => {
    const pod: Pod = { kind: 'Pod', spec: { containers: [], tolerations: [...tolerations] } };
    addDefaultTolerations(pod, 120, 60);
    expect(pod.spec!.tolerations).toHaveLength(count);
  });

  test('uses the given seconds', () => {
    const pod: Pod = { kind: 'Pod', spec: { containers: [] } };
    addDefaultTolerations(pod, 120, 60);
    expect(pod.spec!.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 120 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
    ]);
  });
});
