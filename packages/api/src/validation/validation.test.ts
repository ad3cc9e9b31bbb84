import { applyDefaults } from '../defaults';
import { formatFieldError } from './field';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, isValidPortName } from './names';
import { validateObject, validateObjectUpdate } from './index';
import type { KubeObject } from '../types/meta';

/** Defaults, validates and returns the printed causes, as kubectl shows them. */
function causes(object: KubeObject, options = {}): string[] {
  return validateObject(applyDefaults(object), options).map(formatFieldError);
}

function updateCauses(next: KubeObject, previous: KubeObject): string[] {
  return validateObjectUpdate(applyDefaults(next), applyDefaults(previous)).map(formatFieldError);
}

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

describe('name formats', () => {
  test.each([
    [isDNS1123Subdomain, 'example.com', []],
    [isDNS1123Subdomain, 'Foo_Bar', [SUBDOMAIN_MESSAGE]],
    [isDNS1123Subdomain, 'a'.repeat(254), ['must be no more than 253 characters']],
    [isDNS1123Label, 'my-name', []],
    [isDNS1123Label, 'a.b', ['must not contain dots']],
    [isDNS1123Label, 'A', [LABEL_MESSAGE]],
    [isDNS1035Label, '1abc', ["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]],
    [isQualifiedName, 'app.kubernetes.io/name', []],
    [isQualifiedName, '/x', ['prefix part must be non-empty']],
    [isQualifiedName, 'a/b/c', ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]],
    [isValidLabelValue, '', []],
    [isValidLabelValue, 'x'.repeat(64), ['must be no more than 63 characters']],
    [isValidPortName, 'http', []],
    [isValidPortName, 'a--b', ['must not contain consecutive hyphens']],
    [isValidPortName, '80', ['must contain at least one letter (a-z)']],
  ])('%p(%p)', (check, value, expected) => {
    expect(check(value)).toEqual(expected);
  });
});

const container = { name: 'web', image: 'nginx:1.25' };
const pod = (spec: Record<string, unknown>, name = 'p'): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [container], ...spec } }) as KubeObject;
const deployment = (spec: Record<string, unknown>, name = 'web'): KubeObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } }, ...spec },
  }) as KubeObject;

describe('pods', () => {
  test('a good pod has no causes', () => {
    expect(causes(pod({}))).toEqual([]);
  });

  test.each([
    [pod({}, 'Foo_Bar'), `metadata.name: Invalid value: "Foo_Bar": ${SUBDOMAIN_MESSAGE}`],
    [pod({}, ''), 'metadata.name: Required value: name or generateName is required'],
    [pod({ restartPolicy: 'Sometimes' }), 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"'],
    [pod({ containers: [] }), 'spec.containers: Required value'],
    [pod({ containers: [{ name: 'web' }] }), 'spec.containers[0].image: Required value'],
    [pod({ containers: [container, container] }), 'spec.containers[1].name: Duplicate value: "web"'],
    [pod({ containers: [{ ...container, name: 'Web' }] }), `spec.containers[0].name: Invalid value: "Web": ${LABEL_MESSAGE}`],
    [pod({ containers: [{ ...container, ports: [{ containerPort: 70000 }] }] }), 'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    [pod({ containers: [{ ...container, ports: [{ containerPort: 80, protocol: 'ICMP' }] }] }), 'spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"'],
    [pod({ containers: [{ ...container, resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] }), 'spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1'],
    [pod({ containers: [{ ...container, resources: { limits: { cpu: 'lots' } } }] }), "spec.containers[0].resources.limits[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    [pod({ containers: [{ ...container, volumeMounts: [{ name: 'data', mountPath: '/d' }] }] }), 'spec.containers[0].volumeMounts[0].name: Not found: "data"'],
    [pod({ containers: [{ ...container, livenessProbe: {} }] }), 'spec.containers[0].livenessProbe: Required value: must specify a handler type'],
    [pod({ containers: [{ ...container, livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }] }), 'spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1'],
    [pod({ tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] }), "spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'"],
    [pod({ activeDeadlineSeconds: 0 }), 'spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive'],
    [pod({ volumes: [{ name: 'v', emptyDir: {}, hostPath: { path: '/x' } }] }), 'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type'],
    [pod({ containers: [{ ...container, env: [{ name: 'A=B', value: 'x' }] }] }), "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"],
  ])('%#: %s', (object, expected) => {
    expect(causes(object)).toContain(expected);
  });

  test('namespace is required for namespaced kinds and forbidden for cluster ones', () => {
    expect(causes({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } })).toEqual(['metadata.namespace: Required value']);
    expect(causes({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n', namespace: 'x' } })).toEqual(['metadata.namespace: Forbidden: not allowed on this type']);
  });

  test.each([
    [{ image: 'nginx:1.26' }, []],
    [{ image: '' }, ['spec.containers[0].image: Required value']],
  ])('updating the image %j', (change, expected) => {
    // As stored: the pull policy was defaulted at create and is sent back unchanged.
    const pinned = { ...container, imagePullPolicy: 'IfNotPresent' };
    const previous = pod({ containers: [pinned] });
    const next = pod({ containers: [{ ...pinned, ...change }] });
    expect(updateCauses(next, previous)).toEqual(expected);
  });

  test('other pod spec changes are forbidden', () => {
    const result = updateCauses(pod({ containers: [{ ...container, command: ['sh'] }] }), pod({}));
    expect(result).toHaveLength(1);
    expect(result[0]).toMatch(/^spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
  });

  test('tolerations may be added', () => {
    expect(updateCauses(pod({ tolerations: [{ key: 'a', operator: 'Exists' }] }), pod({}))).toEqual([]);
  });
});

describe('workloads', () => {
  test('a good deployment has no causes', () => {
    expect(causes(deployment({}))).toEqual([]);
  });

  test.each([
    [deployment({ replicas: -1 }), 'spec.replicas: Invalid value: -1: must be greater than or equal to 0'],
    [deployment({ selector: undefined }), 'spec.selector: Required value'],
    [deployment({ selector: { matchLabels: { app: 'other' } } }), 'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`'],
    [deployment({ selector: {} }), 'spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment'],
    [deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }), 'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0'],
    [deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '150%' } } }), 'spec.strategy.rollingUpdate.maxSurge: Invalid value: "150%": must not be greater than 100%'],
    [deployment({ strategy: { type: 'Recreate', rollingUpdate: {} } }), "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"],
    [deployment({ progressDeadlineSeconds: 5, minReadySeconds: 10 }), 'spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds'],
  ])('%#: %s', (object, expected) => {
    expect(causes(object)).toContain(expected);
  });

  test('deployment template restartPolicy must be Always', () => {
    const object = deployment({});
    (object as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec.restartPolicy = 'Never';
    expect(causes(object)).toContain('spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"');
  });

  test('deployment selector is immutable; replicas are not', () => {
    expect(updateCauses(deployment({ replicas: 5 }), deployment({}))).toEqual([]);
    const changed = deployment({
      selector: { matchLabels: { app: 'web', tier: 'x' } },
      template: { metadata: { labels: { app: 'web', tier: 'x' } }, spec: { containers: [container] } },
    });
    expect(updateCauses(changed, deployment({}))).toEqual([
      'spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
  });

  const job = (spec: Record<string, unknown>): KubeObject =>
    ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi', namespace: 'default' },
      spec: {
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u' } },
        template: { metadata: { labels: { 'batch.kubernetes.io/controller-uid': 'u' } }, spec: { containers: [container], restartPolicy: 'Never' } },
        ...spec,
      },
    }) as KubeObject;

  test('jobs', () => {
    expect(causes(job({}))).toEqual([]);
    const always = job({});
    (always as { spec: { template: { spec: Record<string, unknown> } } }).spec.template.spec.restartPolicy = 'Always';
    expect(causes(always)).toEqual(['spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']);
    expect(causes(job({ backoffLimit: -1 }))).toEqual(['spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0']);
    expect(causes(job({ completionMode: 'Indexed', completions: undefined, parallelism: 2 }))).toEqual(['spec.completions: Required value: when completion mode is Indexed']);
  });

  test('cronjobs use the schedule hook and the 52 character limit', () => {
    const cronJob = (name: string, schedule: string): KubeObject =>
      ({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name, namespace: 'default' },
        spec: { schedule, jobTemplate: { spec: { template: { spec: { containers: [container], restartPolicy: 'OnFailure' } } } } },
      }) as KubeObject;
    const validateSchedule = (schedule: string) => (schedule.split(' ').length === 5 ? undefined : 'Expected exactly 5 fields, found 1: bogus');
    expect(causes(cronJob('tick', '*/5 * * * *'), { validateSchedule })).toEqual([]);
    expect(causes(cronJob('tick', 'bogus'), { validateSchedule })).toEqual(['spec.schedule: Invalid value: "bogus": Expected exactly 5 fields, found 1: bogus']);
    expect(causes(cronJob('tick', 'TZ=UTC * * * * *'), { validateSchedule })).toEqual(['spec.schedule: Invalid value: "TZ=UTC * * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead']);
    // Without an injected check, cron-parser's reading (the CronJob controller's) decides.
    expect(causes(cronJob('tick', '@hourly'))).toEqual([]);
    expect(causes(cronJob('tick', '61 * * * *'))[0]).toMatch(/^spec\.schedule: Invalid value: "61 \* \* \* \*": /);
    expect(causes(cronJob('tick', '* * * *'))).toEqual(['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: * * * *']);
    expect(causes({ ...cronJob('tick', '* * * * *'), spec: { ...(cronJob('tick', '* * * * *') as { spec: object }).spec, timeZone: 'Mars/Olympus' } } as KubeObject)).toEqual([
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
    ]);
    expect(causes(cronJob('x'.repeat(53), '* * * * *'))).toEqual([`metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`]);
  });

  test('statefulset spec changes outside the allowed fields are forbidden', () => {
    const sts = (serviceName: string, replicas: number): KubeObject =>
      ({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db', namespace: 'default' },
        spec: { serviceName, replicas, selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [container] } } },
      }) as KubeObject;
    expect(updateCauses(sts('db', 3), sts('db', 1))).toEqual([]);
    expect(updateCauses(sts('other', 1), sts('db', 1))).toEqual([
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });
});

test('a statefulset container may mount a volumeClaimTemplate by name, and nothing else unknown', () => {
  const sts = (mount: string): KubeObject =>
    ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db', namespace: 'default' },
      spec: {
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ ...container, volumeMounts: [{ name: mount, mountPath: '/data' }] }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    }) as KubeObject;
  expect(causes(sts('data'))).toEqual([]);
  expect(causes(sts('other'))).toEqual(['spec.template.spec.containers[0].volumeMounts[0].name: Not found: "other"']);
});

describe('services and others', () => {
  const service = (spec: Record<string, unknown>, name = 'web'): KubeObject =>
    ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }], ...spec } }) as KubeObject;

  test.each([
    [service({}), []],
    [service({}, '1web'), ["metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"]],
    [service({ ports: [] }), ['spec.ports: Required value']],
    [service({ ports: [{ port: 80 }, { port: 81 }] }), ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value']],
    [service({ ports: [{ port: 80, name: 'a' }, { port: 80, name: 'b' }] }), ['spec.ports[1]: Duplicate value: core.ServicePort{Port:80, Protocol:"TCP"}']],
    [service({ ports: [{ port: 80, nodePort: 30080 }] }), ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]],
    [service({ type: 'Weird' }), ['spec.type: Unsupported value: "Weird": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"']],
    [service({ clusterIP: 'None', ports: [] }), []],
  ])('%#', (object, expected) => {
    expect(causes(object)).toEqual(expected);
  });

  test('clusterIP may not change once set', () => {
    expect(updateCauses(service({ clusterIP: '10.96.0.2' }), service({ clusterIP: '10.96.0.1' }))).toEqual([
      'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.2"}: may not change once set',
    ]);
  });

  test.each([
    [{ kind: 'ConfigMap', data: { 'bad key': 'x' } }, ["data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"]],
    [{ kind: 'Secret', type: 'kubernetes.io/tls', data: {} }, ['data[tls.crt]: Required value', 'data[tls.key]: Required value']],
    [{ kind: 'Secret', data: { a: 'not base64!' } }, ['data[a]: Invalid value: "<secret contents redacted>": illegal base64 data']],
    [{ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', spec: { minAvailable: 1, maxUnavailable: 1 } }, ['spec: Invalid value: "": minAvailable and maxUnavailable cannot be both set']],
    [{ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: { leaseDurationSeconds: 0 } }, ['spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0']],
  ])('%j', (object, expected) => {
    expect(causes({ apiVersion: 'v1', metadata: { name: 'x', namespace: 'default' }, ...object } as KubeObject)).toEqual(expected);
  });

  test('immutable configmaps', () => {
    const previous = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'd' }, immutable: true, data: { a: '1' } } as KubeObject;
    const next = { ...previous, data: { a: '2' } } as KubeObject;
    expect(updateCauses(next, previous)).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
  });

  test('HPA min and max', () => {
    const hpa = (minReplicas: number, maxReplicas: number): KubeObject =>
      ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h', namespace: 'd' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas, maxReplicas } }) as KubeObject;
    expect(causes(hpa(1, 3))).toEqual([]);
    expect(causes(hpa(4, 3))).toEqual(['spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`']);
    expect(causes(hpa(0, 3))).toEqual(['spec.minReplicas: Invalid value: 0: must be greater than or equal to 1']);
  });

  const ingress = (paths: unknown[]): KubeObject =>
    ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'd' }, spec: { rules: [{ host: 'example.com', http: { paths } }] } }) as KubeObject;
  const backend = { service: { name: 'web', port: { number: 80 } } };

  test.each([
    [[{ path: '/', pathType: 'Prefix', backend }], []],
    [[{ path: '/', backend }], ['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified']],
    [[{ path: 'api', pathType: 'Prefix', backend }], ['spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path']],
    [[{ path: '/', pathType: 'Regex', backend }], ['spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"']],
    [[{ path: '/', pathType: 'Exact', backend: { service: { name: 'web' } } }], ['spec.rules[0].http.paths[0].backend.service.port: Required value: port name or number is required']],
  ])('ingress %#', (paths, expected) => {
    expect(causes(ingress(paths))).toEqual(expected);
  });

  test('rbac', () => {
    const binding = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'b' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' }, subjects: [{ kind: 'ServiceAccount', name: 's' }] } as KubeObject;
    expect(causes(binding)).toEqual(['roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"', 'subjects[0].namespace: Required value']);
    const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'd' }, rules: [{ verbs: [], apiGroups: [''], resources: ['pods'] }] } as KubeObject;
    expect(causes(role)).toEqual(['rules[0].verbs: Required value: verbs must contain at least one value']);
  });
});
