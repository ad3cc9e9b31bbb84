// Field schemas of every served kind, transcribed from the upstream v1.32 API
// types (field names, nesting, patchStrategy/patchMergeKey tags).
import {
  any,
  boolean,
  extend,
  integer,
  intOrString,
  list,
  map,
  mergeList,
  object,
  quantity,
  resourceList,
  setList,
  string,
  stringList,
  stringMap,
  time,
  type FieldSchema,
  type ObjectSchema,
} from './dsl';

// ---- meta ----

export const ownerReference = object({
  apiVersion: string,
  kind: string,
  name: string,
  uid: string,
  controller: boolean,
  blockOwnerDeletion: boolean,
});

export const objectMeta = object({
  name: string,
  generateName: string,
  namespace: string,
  selfLink: string,
  uid: string,
  resourceVersion: string,
  generation: integer,
  creationTimestamp: time,
  deletionTimestamp: time,
  deletionGracePeriodSeconds: integer,
  labels: stringMap,
  annotations: stringMap,
  ownerReferences: mergeList(ownerReference, 'uid'),
  finalizers: setList(string),
  managedFields: list(
    object({ manager: string, operation: string, apiVersion: string, time, fieldsType: string, fieldsV1: any, subresource: string }),
  ),
});

export const labelSelector = object({
  matchLabels: stringMap,
  matchExpressions: list(object({ key: string, operator: string, values: stringList })),
});

export const metaCondition = object({
  type: string,
  status: string,
  observedGeneration: integer,
  lastTransitionTime: time,
  reason: string,
  message: string,
});

/** The fields every top-level object has. */
function kind(fields: Record<string, FieldSchema>): ObjectSchema {
  return object({ apiVersion: string, kind: string, metadata: objectMeta, ...fields });
}

// ---- core/v1 pod ----

const objectFieldSelector = object({ apiVersion: string, fieldPath: string });
const resourceFieldSelector = object({ containerName: string, resource: string, divisor: quantity });
const keySelector = object({ name: string, key: string, optional: boolean });
const localObjectReference = object({ name: string });
export const objectReference = object({
  kind: string,
  namespace: string,
  name: string,
  uid: string,
  apiVersion: string,
  resourceVersion: string,
  fieldPath: string,
});
const typedLocalObjectReference = object({ apiGroup: string, kind: string, name: string });

const envVar = object({
  name: string,
  value: string,
  valueFrom: object({
    fieldRef: objectFieldSelector,
    resourceFieldRef: resourceFieldSelector,
    configMapKeyRef: keySelector,
    secretKeyRef: keySelector,
  }),
});

const envFromSource = object({
  prefix: string,
  configMapRef: object({ name: string, optional: boolean }),
  secretRef: object({ name: string, optional: boolean }),
});

const containerPort = object({ name: string, hostPort: integer, containerPort: integer, protocol: string, hostIP: string });

const resourceRequirements = object({
  limits: resourceList,
  requests: resourceList,
  claims: list(object({ name: string, request: string })),
});

const volumeMount = object({
  name: string,
  readOnly: boolean,
  recursiveReadOnly: string,
  mountPath: string,
  subPath: string,
  mountPropagation: string,
  subPathExpr: string,
});

const httpGetAction = object({
  path: string,
  port: intOrString,
  host: string,
  scheme: string,
  httpHeaders: list(object({ name: string, value: string })),
});
const tcpSocketAction = object({ port: intOrString, host: string });
const execAction = object({ command: stringList });

const probe = object({
  exec: execAction,
  httpGet: httpGetAction,
  tcpSocket: tcpSocketAction,
  grpc: object({ port: integer, service: string }),
  initialDelaySeconds: integer,
  timeoutSeconds: integer,
  periodSeconds: integer,
  successThreshold: integer,
  failureThreshold: integer,
  terminationGracePeriodSeconds: integer,
});

const lifecycleHandler = object({
  exec: execAction,
  httpGet: httpGetAction,
  tcpSocket: tcpSocketAction,
  sleep: object({ seconds: integer }),
});

const seccompProfile = object({ type: string, localhostProfile: string });
const seLinuxOptions = object({ user: string, role: string, type: string, level: string });
const windowsOptions = object({ gmsaCredentialSpecName: string, gmsaCredentialSpec: string, runAsUserName: string, hostProcess: boolean });
const appArmorProfile = object({ type: string, localhostProfile: string });

const securityContext = object({
  capabilities: object({ add: stringList, drop: stringList }),
  privileged: boolean,
  seLinuxOptions,
  windowsOptions,
  runAsUser: integer,
  runAsGroup: integer,
  runAsNonRoot: boolean,
  readOnlyRootFilesystem: boolean,
  allowPrivilegeEscalation: boolean,
  procMount: string,
  seccompProfile,
  appArmorProfile,
});

const podSecurityContext = object({
  seLinuxOptions,
  windowsOptions,
  runAsUser: integer,
  runAsGroup: integer,
  runAsNonRoot: boolean,
  supplementalGroups: list(integer),
  supplementalGroupsPolicy: string,
  fsGroup: integer,
  sysctls: list(object({ name: string, value: string })),
  fsGroupChangePolicy: string,
  seccompProfile,
  appArmorProfile,
  seLinuxChangePolicy: string,
});

export const container = object({
  name: string,
  image: string,
  command: stringList,
  args: stringList,
  workingDir: string,
  ports: mergeList(containerPort, 'containerPort'),
  envFrom: list(envFromSource),
  env: mergeList(envVar, 'name'),
  resources: resourceRequirements,
  resizePolicy: list(object({ resourceName: string, restartPolicy: string })),
  restartPolicy: string,
  volumeMounts: mergeList(volumeMount, 'mountPath'),
  volumeDevices: mergeList(object({ name: string, devicePath: string }), 'devicePath'),
  livenessProbe: probe,
  readinessProbe: probe,
  startupProbe: probe,
  lifecycle: object({ postStart: lifecycleHandler, preStop: lifecycleHandler, stopSignal: string }),
  terminationMessagePath: string,
  terminationMessagePolicy: string,
  imagePullPolicy: string,
  securityContext,
  stdin: boolean,
  stdinOnce: boolean,
  tty: boolean,
});

const ephemeralContainer = extend(container, { targetContainerName: string });

const keyToPath = object({ key: string, path: string, mode: integer });
const downwardAPIVolumeFile = object({ path: string, fieldRef: objectFieldSelector, resourceFieldRef: resourceFieldSelector, mode: integer });

const persistentVolumeClaimSpec = object({
  accessModes: stringList,
  selector: labelSelector,
  resources: object({ limits: resourceList, requests: resourceList }),
  volumeName: string,
  storageClassName: string,
  volumeMode: string,
  dataSource: typedLocalObjectReference,
  dataSourceRef: object({ apiGroup: string, kind: string, name: string, namespace: string }),
  volumeAttributesClassName: string,
});

const volumeSourceFields: Record<string, FieldSchema> = {
  emptyDir: object({ medium: string, sizeLimit: quantity }),
  hostPath: object({ path: string, type: string }),
  configMap: object({ name: string, items: list(keyToPath), defaultMode: integer, optional: boolean }),
  secret: object({ secretName: string, items: list(keyToPath), defaultMode: integer, optional: boolean }),
  projected: object({
    sources: list(
      object({
        secret: object({ name: string, items: list(keyToPath), optional: boolean }),
        configMap: object({ name: string, items: list(keyToPath), optional: boolean }),
        downwardAPI: object({ items: list(downwardAPIVolumeFile) }),
        serviceAccountToken: object({ audience: string, expirationSeconds: integer, path: string }),
        clusterTrustBundle: any,
      }),
    ),
    defaultMode: integer,
  }),
  downwardAPI: object({ items: list(downwardAPIVolumeFile), defaultMode: integer }),
  persistentVolumeClaim: object({ claimName: string, readOnly: boolean }),
  ephemeral: object({ volumeClaimTemplate: object({ metadata: objectMeta, spec: persistentVolumeClaimSpec }) }),
  nfs: object({ server: string, path: string, readOnly: boolean }),
  csi: object({ driver: string, readOnly: boolean, fsType: string, volumeAttributes: stringMap, nodePublishSecretRef: localObjectReference }),
  image: object({ reference: string, pullPolicy: string }),
};

const volume = object({ name: string, ...volumeSourceFields }, { retainKeys: true });

const nodeSelectorRequirement = object({ key: string, operator: string, values: stringList });
const nodeSelectorTerm = object({ matchExpressions: list(nodeSelectorRequirement), matchFields: list(nodeSelectorRequirement) });
const nodeSelector = object({ nodeSelectorTerms: list(nodeSelectorTerm) });

const podAffinityTerm = object({
  labelSelector,
  namespaces: stringList,
  topologyKey: string,
  namespaceSelector: labelSelector,
  matchLabelKeys: stringList,
  mismatchLabelKeys: stringList,
});
const podAffinity = object({
  requiredDuringSchedulingIgnoredDuringExecution: list(podAffinityTerm),
  preferredDuringSchedulingIgnoredDuringExecution: list(object({ weight: integer, podAffinityTerm })),
});

const affinity = object({
  nodeAffinity: object({
    requiredDuringSchedulingIgnoredDuringExecution: nodeSelector,
    preferredDuringSchedulingIgnoredDuringExecution: list(object({ weight: integer, preference: nodeSelectorTerm })),
  }),
  podAffinity,
  podAntiAffinity: podAffinity,
});

const toleration = object({ key: string, operator: string, value: string, effect: string, tolerationSeconds: integer });

const topologySpreadConstraint = object({
  maxSkew: integer,
  topologyKey: string,
  whenUnsatisfiable: string,
  labelSelector,
  minDomains: integer,
  nodeAffinityPolicy: string,
  nodeTaintsPolicy: string,
  matchLabelKeys: stringList,
});

export const podSpec = object({
  volumes: mergeList(volume, 'name'),
  initContainers: mergeList(container, 'name'),
  containers: mergeList(container, 'name'),
  ephemeralContainers: mergeList(ephemeralContainer, 'name'),
  restartPolicy: string,
  terminationGracePeriodSeconds: integer,
  activeDeadlineSeconds: integer,
  dnsPolicy: string,
  nodeSelector: stringMap,
  serviceAccountName: string,
  serviceAccount: string,
  automountServiceAccountToken: boolean,
  nodeName: string,
  hostNetwork: boolean,
  hostPID: boolean,
  hostIPC: boolean,
  shareProcessNamespace: boolean,
  securityContext: podSecurityContext,
  imagePullSecrets: mergeList(localObjectReference, 'name'),
  hostname: string,
  subdomain: string,
  affinity,
  schedulerName: string,
  tolerations: list(toleration),
  hostAliases: mergeList(object({ ip: string, hostnames: stringList }), 'ip'),
  priorityClassName: string,
  priority: integer,
  dnsConfig: object({ nameservers: stringList, searches: stringList, options: list(object({ name: string, value: string })) }),
  readinessGates: list(object({ conditionType: string })),
  runtimeClassName: string,
  enableServiceLinks: boolean,
  preemptionPolicy: string,
  overhead: resourceList,
  topologySpreadConstraints: mergeList(topologySpreadConstraint, 'topologyKey'),
  setHostnameAsFQDN: boolean,
  os: object({ name: string }),
  hostUsers: boolean,
  schedulingGates: mergeList(object({ name: string }), 'name'),
  resourceClaims: mergeList(object({ name: string, resourceClaimName: string, resourceClaimTemplateName: string }), 'name'),
  resources: resourceRequirements,
});

const containerState = object({
  waiting: object({ reason: string, message: string }),
  running: object({ startedAt: time }),
  terminated: object({
    exitCode: integer,
    signal: integer,
    reason: string,
    message: string,
    startedAt: time,
    finishedAt: time,
    containerID: string,
  }),
});

const containerStatus = object({
  name: string,
  state: containerState,
  lastState: containerState,
  ready: boolean,
  restartCount: integer,
  image: string,
  imageID: string,
  containerID: string,
  started: boolean,
  allocatedResources: resourceList,
  resources: resourceRequirements,
  volumeMounts: list(volumeMount),
  user: any,
  allocatedResourcesStatus: any,
  stopSignal: string,
});

const podCondition = object({
  type: string,
  observedGeneration: integer,
  status: string,
  lastProbeTime: time,
  lastTransitionTime: time,
  reason: string,
  message: string,
});

const podStatus = object({
  observedGeneration: integer,
  phase: string,
  conditions: mergeList(podCondition, 'type'),
  message: string,
  reason: string,
  nominatedNodeName: string,
  hostIP: string,
  hostIPs: mergeList(object({ ip: string }), 'ip'),
  podIP: string,
  podIPs: mergeList(object({ ip: string }), 'ip'),
  startTime: time,
  initContainerStatuses: list(containerStatus),
  containerStatuses: list(containerStatus),
  qosClass: string,
  ephemeralContainerStatuses: list(containerStatus),
  resize: string,
  resourceClaimStatuses: any,
});

export const podTemplateSpec = object({ metadata: objectMeta, spec: podSpec });

// ---- other core/v1 kinds ----

const loadBalancerIngress = object({
  ip: string,
  hostname: string,
  ipMode: string,
  ports: list(object({ port: integer, protocol: string, error: string })),
});

const servicePort = object({
  name: string,
  protocol: string,
  appProtocol: string,
  port: integer,
  targetPort: intOrString,
  nodePort: integer,
});

const serviceSpec = object({
  ports: mergeList(servicePort, 'port'),
  selector: stringMap,
  clusterIP: string,
  clusterIPs: stringList,
  type: string,
  externalIPs: stringList,
  sessionAffinity: string,
  loadBalancerIP: string,
  loadBalancerSourceRanges: stringList,
  externalName: string,
  externalTrafficPolicy: string,
  healthCheckNodePort: integer,
  publishNotReadyAddresses: boolean,
  sessionAffinityConfig: object({ clientIP: object({ timeoutSeconds: integer }) }),
  ipFamilies: stringList,
  ipFamilyPolicy: string,
  allocateLoadBalancerNodePorts: boolean,
  loadBalancerClass: string,
  internalTrafficPolicy: string,
  trafficDistribution: string,
});

const endpointAddress = object({ ip: string, hostname: string, nodeName: string, targetRef: objectReference });

const workloadCondition = object({
  type: string,
  status: string,
  lastUpdateTime: time,
  lastTransitionTime: time,
  reason: string,
  message: string,
});

const conditionWithProbe = object({
  type: string,
  status: string,
  lastProbeTime: time,
  lastTransitionTime: time,
  reason: string,
  message: string,
});

const nodeCondition = object({
  type: string,
  status: string,
  lastHeartbeatTime: time,
  lastTransitionTime: time,
  reason: string,
  message: string,
});

const persistentVolumeClaim = kind({
  spec: persistentVolumeClaimSpec,
  status: object({
    phase: string,
    accessModes: stringList,
    capacity: resourceList,
    conditions: mergeList(conditionWithProbe, 'type'),
    allocatedResources: resourceList,
    allocatedResourceStatuses: stringMap,
    currentVolumeAttributesClassName: string,
    modifyVolumeStatus: any,
  }),
});

// ---- apps/v1 ----

const rollingUpdateDeployment = object({ maxUnavailable: intOrString, maxSurge: intOrString });

const deployment = kind({
  spec: object({
    replicas: integer,
    selector: labelSelector,
    template: podTemplateSpec,
    strategy: object({ type: string, rollingUpdate: rollingUpdateDeployment }, { retainKeys: true }),
    minReadySeconds: integer,
    revisionHistoryLimit: integer,
    paused: boolean,
    progressDeadlineSeconds: integer,
  }),
  status: object({
    observedGeneration: integer,
    replicas: integer,
    updatedReplicas: integer,
    readyReplicas: integer,
    availableReplicas: integer,
    unavailableReplicas: integer,
    terminatingReplicas: integer,
    conditions: mergeList(workloadCondition, 'type'),
    collisionCount: integer,
  }),
});

const replicaSet = kind({
  spec: object({ replicas: integer, minReadySeconds: integer, selector: labelSelector, template: podTemplateSpec }),
  status: object({
    replicas: integer,
    fullyLabeledReplicas: integer,
    readyReplicas: integer,
    availableReplicas: integer,
    terminatingReplicas: integer,
    observedGeneration: integer,
    conditions: mergeList(workloadCondition, 'type'),
  }),
});

const statefulSet = kind({
  spec: object({
    replicas: integer,
    selector: labelSelector,
    template: podTemplateSpec,
    volumeClaimTemplates: list(persistentVolumeClaim),
    serviceName: string,
    podManagementPolicy: string,
    updateStrategy: object({ type: string, rollingUpdate: object({ partition: integer, maxUnavailable: intOrString }) }),
    revisionHistoryLimit: integer,
    minReadySeconds: integer,
    persistentVolumeClaimRetentionPolicy: object({ whenDeleted: string, whenScaled: string }),
    ordinals: object({ start: integer }),
  }),
  status: object({
    observedGeneration: integer,
    replicas: integer,
    readyReplicas: integer,
    currentReplicas: integer,
    updatedReplicas: integer,
    currentRevision: string,
    updateRevision: string,
    collisionCount: integer,
    conditions: mergeList(workloadCondition, 'type'),
    availableReplicas: integer,
  }),
});

const daemonSet = kind({
  spec: object({
    selector: labelSelector,
    template: podTemplateSpec,
    updateStrategy: object({ type: string, rollingUpdate: object({ maxUnavailable: intOrString, maxSurge: intOrString }) }),
    minReadySeconds: integer,
    revisionHistoryLimit: integer,
  }),
  status: object({
    currentNumberScheduled: integer,
    numberMisscheduled: integer,
    desiredNumberScheduled: integer,
    numberReady: integer,
    observedGeneration: integer,
    updatedNumberScheduled: integer,
    numberAvailable: integer,
    numberUnavailable: integer,
    collisionCount: integer,
    conditions: mergeList(workloadCondition, 'type'),
  }),
});

// ---- batch/v1 ----

const jobSpec = object({
  parallelism: integer,
  completions: integer,
  activeDeadlineSeconds: integer,
  podFailurePolicy: object({
    rules: list(
      object({
        action: string,
        onExitCodes: object({ containerName: string, operator: string, values: list(integer) }),
        onPodConditions: list(object({ type: string, status: string })),
      }),
    ),
  }),
  successPolicy: object({ rules: list(object({ succeededIndexes: string, succeededCount: integer })) }),
  backoffLimit: integer,
  backoffLimitPerIndex: integer,
  maxFailedIndexes: integer,
  selector: labelSelector,
  manualSelector: boolean,
  template: podTemplateSpec,
  ttlSecondsAfterFinished: integer,
  completionMode: string,
  suspend: boolean,
  podReplacementPolicy: string,
  managedBy: string,
});

const job = kind({
  spec: jobSpec,
  status: object({
    conditions: mergeList(conditionWithProbe, 'type'),
    startTime: time,
    completionTime: time,
    active: integer,
    succeeded: integer,
    failed: integer,
    terminating: integer,
    completedIndexes: string,
    failedIndexes: string,
    uncountedTerminatedPods: object({ succeeded: stringList, failed: stringList }),
    ready: integer,
  }),
});

const cronJob = kind({
  spec: object({
    schedule: string,
    timeZone: string,
    startingDeadlineSeconds: integer,
    concurrencyPolicy: string,
    suspend: boolean,
    jobTemplate: object({ metadata: objectMeta, spec: jobSpec }),
    successfulJobsHistoryLimit: integer,
    failedJobsHistoryLimit: integer,
  }),
  status: object({ active: list(objectReference), lastScheduleTime: time, lastSuccessfulTime: time }),
});

// ---- autoscaling ----

const crossVersionObjectReference = object({ kind: string, name: string, apiVersion: string });
const metricTarget = object({ type: string, value: quantity, averageValue: quantity, averageUtilization: integer });
const metricIdentifier = object({ name: string, selector: labelSelector });
const metricValueStatus = object({ value: quantity, averageValue: quantity, averageUtilization: integer });
const scalingRules = object({
  stabilizationWindowSeconds: integer,
  selectPolicy: string,
  policies: list(object({ type: string, value: integer, periodSeconds: integer })),
  tolerance: quantity,
});

const horizontalPodAutoscaler = kind({
  spec: object({
    scaleTargetRef: crossVersionObjectReference,
    minReplicas: integer,
    maxReplicas: integer,
    metrics: list(
      object({
        type: string,
        object: object({ describedObject: crossVersionObjectReference, target: metricTarget, metric: metricIdentifier }),
        pods: object({ metric: metricIdentifier, target: metricTarget }),
        resource: object({ name: string, target: metricTarget }),
        containerResource: object({ name: string, target: metricTarget, container: string }),
        external: object({ metric: metricIdentifier, target: metricTarget }),
      }),
    ),
    behavior: object({ scaleUp: scalingRules, scaleDown: scalingRules }),
  }),
  status: object({
    observedGeneration: integer,
    lastScaleTime: time,
    currentReplicas: integer,
    desiredReplicas: integer,
    currentMetrics: list(
      object({
        type: string,
        object: object({ metric: metricIdentifier, current: metricValueStatus, describedObject: crossVersionObjectReference }),
        pods: object({ metric: metricIdentifier, current: metricValueStatus }),
        resource: object({ name: string, current: metricValueStatus }),
        containerResource: object({ name: string, current: metricValueStatus, container: string }),
        external: object({ metric: metricIdentifier, current: metricValueStatus }),
      }),
    ),
    conditions: mergeList(object({ type: string, status: string, lastTransitionTime: time, reason: string, message: string }), 'type'),
  }),
});

const scale = kind({ spec: object({ replicas: integer }), status: object({ replicas: integer, selector: string }) });

// ---- networking.k8s.io ----

const ingressBackend = object({
  service: object({ name: string, port: object({ name: string, number: integer }) }),
  resource: typedLocalObjectReference,
});
const ingressBackendV1beta1 = object({ serviceName: string, servicePort: intOrString, resource: typedLocalObjectReference });
const ingressTLS = object({ hosts: stringList, secretName: string });
const ingressStatus = object({ loadBalancer: object({ ingress: list(loadBalancerIngress) }) });

const ingress = kind({
  spec: object({
    ingressClassName: string,
    defaultBackend: ingressBackend,
    tls: list(ingressTLS),
    rules: list(object({ host: string, http: object({ paths: list(object({ path: string, pathType: string, backend: ingressBackend })) }) })),
  }),
  status: ingressStatus,
});

const ingressV1beta1 = kind({
  spec: object({
    ingressClassName: string,
    backend: ingressBackendV1beta1,
    tls: list(ingressTLS),
    rules: list(object({ host: string, http: object({ paths: list(object({ path: string, pathType: string, backend: ingressBackendV1beta1 })) }) })),
  }),
  status: ingressStatus,
});

// ---- rbac ----

const policyRule = object({ verbs: stringList, apiGroups: stringList, resources: stringList, resourceNames: stringList, nonResourceURLs: stringList });
const subject = object({ kind: string, apiGroup: string, name: string, namespace: string });
const roleRef = object({ apiGroup: string, kind: string, name: string });
const roleBinding = kind({ subjects: list(subject), roleRef });

// ---- the registry of kinds ----

const byKey = new Map<string, ObjectSchema>();

function register(apiVersion: string, kindName: string, schema: ObjectSchema): void {
  byKey.set(`${apiVersion}/${kindName}`, schema);
}

register('v1', 'Pod', kind({ spec: podSpec, status: podStatus }));
register('v1', 'PodTemplate', kind({ template: podTemplateSpec }));
register('v1', 'Binding', kind({ target: objectReference }));
register(
  'v1',
  'Service',
  kind({ spec: serviceSpec, status: object({ loadBalancer: object({ ingress: list(loadBalancerIngress) }), conditions: mergeList(metaCondition, 'type') }) }),
);
register(
  'v1',
  'Endpoints',
  kind({
    subsets: list(
      object({
        addresses: list(endpointAddress),
        notReadyAddresses: list(endpointAddress),
        ports: list(object({ name: string, port: integer, protocol: string, appProtocol: string })),
      }),
    ),
  }),
);
register(
  'v1',
  'Node',
  kind({
    spec: object({
      podCIDR: string,
      podCIDRs: setList(string),
      providerID: string,
      unschedulable: boolean,
      taints: list(object({ key: string, value: string, effect: string, timeAdded: time })),
      configSource: any,
      externalID: string,
    }),
    status: object({
      capacity: resourceList,
      allocatable: resourceList,
      phase: string,
      conditions: mergeList(nodeCondition, 'type'),
      addresses: mergeList(object({ type: string, address: string }), 'type'),
      daemonEndpoints: object({ kubeletEndpoint: object({ Port: integer }) }),
      nodeInfo: object({
        machineID: string,
        systemUUID: string,
        bootID: string,
        kernelVersion: string,
        osImage: string,
        containerRuntimeVersion: string,
        kubeletVersion: string,
        kubeProxyVersion: string,
        operatingSystem: string,
        architecture: string,
        swap: any,
      }),
      images: list(object({ names: stringList, sizeBytes: integer })),
      volumesInUse: stringList,
      volumesAttached: list(object({ name: string, devicePath: string })),
      config: any,
      runtimeHandlers: any,
      features: any,
    }),
  }),
);
register(
  'v1',
  'Namespace',
  kind({
    spec: object({ finalizers: stringList }),
    status: object({ phase: string, conditions: mergeList(conditionWithProbe, 'type') }),
  }),
);
register('v1', 'ConfigMap', kind({ immutable: boolean, data: stringMap, binaryData: stringMap }));
register('v1', 'Secret', kind({ immutable: boolean, data: stringMap, stringData: stringMap, type: string }));
register(
  'v1',
  'ServiceAccount',
  kind({ secrets: mergeList(objectReference, 'name'), imagePullSecrets: list(localObjectReference), automountServiceAccountToken: boolean }),
);
register(
  'v1',
  'Event',
  kind({
    involvedObject: objectReference,
    reason: string,
    message: string,
    source: object({ component: string, host: string }),
    firstTimestamp: time,
    lastTimestamp: time,
    count: integer,
    type: string,
    eventTime: time,
    series: object({ count: integer, lastObservedTime: time }),
    action: string,
    related: objectReference,
    reportingComponent: string,
    reportingInstance: string,
  }),
);
register('v1', 'PersistentVolumeClaim', persistentVolumeClaim);
register(
  'v1',
  'PersistentVolume',
  kind({
    spec: object({
      capacity: resourceList,
      hostPath: object({ path: string, type: string }),
      local: object({ path: string, fsType: string }),
      nfs: object({ server: string, path: string, readOnly: boolean }),
      csi: any,
      accessModes: stringList,
      claimRef: objectReference,
      persistentVolumeReclaimPolicy: string,
      storageClassName: string,
      mountOptions: stringList,
      volumeMode: string,
      nodeAffinity: object({ required: nodeSelector }),
      volumeAttributesClassName: string,
    }),
    status: object({ phase: string, message: string, reason: string, lastPhaseTransitionTime: time }),
  }),
);
register('apps/v1', 'Deployment', deployment);
register('apps/v1', 'ReplicaSet', replicaSet);
register('apps/v1', 'StatefulSet', statefulSet);
register('apps/v1', 'DaemonSet', daemonSet);
register('apps/v1', 'ControllerRevision', kind({ data: any, revision: integer }));
register('batch/v1', 'Job', job);
register('batch/v1', 'CronJob', cronJob);
register('autoscaling/v2', 'HorizontalPodAutoscaler', horizontalPodAutoscaler);
register('autoscaling/v1', 'Scale', scale);
register('networking.k8s.io/v1', 'Ingress', ingress);
register('networking.k8s.io/v1beta1', 'Ingress', ingressV1beta1);
register(
  'networking.k8s.io/v1',
  'IngressClass',
  kind({ spec: object({ controller: string, parameters: object({ apiGroup: string, kind: string, name: string, scope: string, namespace: string }) }) }),
);
register(
  'coordination.k8s.io/v1',
  'Lease',
  kind({
    spec: object({
      holderIdentity: string,
      leaseDurationSeconds: integer,
      acquireTime: time,
      renewTime: time,
      leaseTransitions: integer,
      strategy: string,
      preferredHolder: string,
    }),
  }),
);
register(
  'policy/v1',
  'Eviction',
  kind({
    deleteOptions: object({
      apiVersion: string,
      kind: string,
      gracePeriodSeconds: integer,
      preconditions: object({ uid: string, resourceVersion: string }),
      orphanDependents: boolean,
      propagationPolicy: string,
      dryRun: stringList,
      ignoreStoreReadErrorWithClusterBreakingPotential: boolean,
    }),
  }),
);
register(
  'policy/v1',
  'PodDisruptionBudget',
  kind({
    spec: object({ minAvailable: intOrString, selector: labelSelector, maxUnavailable: intOrString, unhealthyPodEvictionPolicy: string }),
    status: object({
      observedGeneration: integer,
      disruptedPods: map(time),
      disruptionsAllowed: integer,
      currentHealthy: integer,
      desiredHealthy: integer,
      expectedPods: integer,
      conditions: mergeList(metaCondition, 'type'),
    }),
  }),
);
register('rbac.authorization.k8s.io/v1', 'Role', kind({ rules: list(policyRule) }));
register('rbac.authorization.k8s.io/v1', 'ClusterRole', kind({ rules: list(policyRule), aggregationRule: object({ clusterRoleSelectors: list(labelSelector) }) }));
register('rbac.authorization.k8s.io/v1', 'RoleBinding', roleBinding);
register('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', roleBinding);
register(
  'storage.k8s.io/v1',
  'StorageClass',
  kind({
    provisioner: string,
    parameters: stringMap,
    reclaimPolicy: string,
    mountOptions: stringList,
    allowVolumeExpansion: boolean,
    volumeBindingMode: string,
    allowedTopologies: list(object({ matchLabelExpressions: list(object({ key: string, values: stringList })) })),
  }),
);
register(
  'metrics.k8s.io/v1beta1',
  'PodMetrics',
  kind({ timestamp: time, window: string, containers: list(object({ name: string, usage: resourceList })) }),
);
register('metrics.k8s.io/v1beta1', 'NodeMetrics', kind({ timestamp: time, window: string, usage: resourceList }));

/** The schema of a kind in one version ("apps/v1", "Deployment"); undefined when not served. */
export function schemaFor(apiVersion: string, kindName: string): ObjectSchema | undefined {
  return byKey.get(`${apiVersion}/${kindName}`);
}

/** Every registered (apiVersion, kind) pair, for building an OpenAPI document. */
export function schemaKinds(): { apiVersion: string; kind: string }[] {
  return [...byKey.keys()].map((key) => {
    const slash = key.lastIndexOf('/');
    return { apiVersion: key.slice(0, slash), kind: key.slice(slash + 1) };
  });
}
