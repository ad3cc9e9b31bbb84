// THE table of how each component is started: binary, flags, readiness and
// what `status` shows. Several of the CLIs are still changing; this is the one
// place to adjust when one does. Flags marked `optional` are passed only when
// the binary's --help lists them (checked at preflight), so a component that
// lacks one still starts, without that behaviour. Every other flag must be
// accepted, or preflight stops with UnsupportedFlagError naming it.
import type { ClusterLayout, EtcdMemberLayout, WorkerLayout } from './cluster/layout';
import type { ReadinessCheck } from './supervisor';

export type BinaryName = 'etcd-lite' | 'kube-apiserver' | 'kube-scheduler' | 'kube-controller-manager' | 'kubelet' | 'kube-proxy';

/** The workspace package each binary is built from (its entry is packages/<package>/dist/cli.js). */
export const PACKAGE_OF_BINARY: Record<BinaryName, string> = {
  'etcd-lite': 'etcd-lite',
  'kube-apiserver': 'apiserver',
  'kube-scheduler': 'scheduler',
  'kube-controller-manager': 'controller-manager',
  kubelet: 'kubelet',
  'kube-proxy': 'kube-proxy',
};

export interface FlagArgument {
  /** With the dashes: `--data-dir`. */
  flag: string;
  /** Omitted for a switch without a value. */
  value?: string;
  /** Passed only when the binary's --help lists the flag. */
  optional?: boolean;
}

/** Start order: a group starts only once the previous one is ready; members of a group start together. */
export type StartGroup = 'etcd' | 'apiserver' | 'control-plane' | `node:${string}`;

export interface ComponentDefinition {
  name: string;
  binary: BinaryName;
  group: StartGroup;
  args: FlagArgument[];
  readiness: ReadinessCheck;
  /** Used instead of `readiness` when the flag it relies on was dropped (an optional flag the binary lacks). */
  fallback?: { whenFlagMissing: string; readiness: ReadinessCheck };
  readyTimeoutMs: number;
  /** Addresses the component listens on, label to host:port: preflight checks them free, `status` shows them. */
  endpoints: Record<string, string>;
}

const ETCD_HEARTBEAT_INTERVAL_MS = 100;
const ETCD_ELECTION_TIMEOUT_MS = 1_000;
/** The node-failure fast profile: pods leave a dead node 5 s after the taint, not upstream's 300 s. */
const FAST_TOLERATION_SECONDS = 5;
/** With the controller manager's 10 s grace period, nodes must heartbeat well inside it. */
const NODE_STATUS_UPDATE_FREQUENCY = '2s';
const NODE_MONITOR_GRACE_PERIOD = '10s';
/**
 * The fast autoscaling profile, so a user watching `kubectl get hpa -w` sees
 * scaling within seconds: the HPA controller looks every 5 s (upstream 15 s)
 * and scales down after 30 s of lower recommendations (upstream 5 min). An
 * HPA's own behavior.scaleDown.stabilizationWindowSeconds still wins.
 */
const HPA_SYNC_PERIOD = '5s';
const HPA_DOWNSCALE_STABILIZATION = '30s';
/** A component without a health endpoint counts as up after this long without crashing. */
const SETTLE_MS = 1_500;
const READY_TIMEOUT_MS = 60_000;

function hostPort(url: string): string {
  return url.replace(/^[a-z]+:\/\//, '');
}

export function etcdMemberComponent(layout: ClusterLayout, member: EtcdMemberLayout): ComponentDefinition {
  const initialCluster = layout.etcd.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  return {
    name: member.name,
    binary: 'etcd-lite',
    group: 'etcd',
    args: [
      { flag: '--name', value: member.name },
      { flag: '--data-dir', value: member.dataDir },
      { flag: '--listen-client-urls', value: member.clientUrl },
      { flag: '--advertise-client-urls', value: member.clientUrl },
      { flag: '--listen-peer-urls', value: member.peerUrl },
      { flag: '--initial-advertise-peer-urls', value: member.peerUrl },
      { flag: '--initial-cluster', value: initialCluster },
      // Also on a restart: a member with data restarts from its data dir and ignores the bootstrap flags, as etcd does.
      { flag: '--initial-cluster-state', value: 'new' },
      { flag: '--initial-cluster-token', value: 'kube-lite' },
      { flag: '--heartbeat-interval', value: String(ETCD_HEARTBEAT_INTERVAL_MS) },
      { flag: '--election-timeout', value: String(ETCD_ELECTION_TIMEOUT_MS) },
      { flag: '--listen-metrics-urls', value: member.metricsUrl },
    ],
    // /health answers 200 only once the member knows a leader, i.e. the group has a quorum.
    readiness: { kind: 'http', url: `${member.metricsUrl}/health` },
    readyTimeoutMs: READY_TIMEOUT_MS,
    endpoints: { client: hostPort(member.clientUrl), peer: hostPort(member.peerUrl), metrics: hostPort(member.metricsUrl) },
  };
}

export function apiserverComponent(layout: ClusterLayout): ComponentDefinition {
  const { apiserver } = layout;
  return {
    name: 'kube-apiserver',
    binary: 'kube-apiserver',
    group: 'apiserver',
    args: [
      { flag: '--etcd-servers', value: layout.etcd.map((member) => member.clientUrl).join(',') },
      { flag: '--secure-port', value: String(apiserver.securePort) },
      { flag: '--bind-address', value: apiserver.address },
      { flag: '--advertise-address', value: apiserver.address },
      { flag: '--service-cluster-ip-range', value: apiserver.serviceClusterIpRange },
      { flag: '--service-node-port-range', value: '30000-32767' },
      { flag: '--token-auth-file', value: layout.files.tokenFile },
      { flag: '--cert-dir', value: apiserver.certDir },
      { flag: '--grpc-port', value: String(apiserver.grpcPort), optional: true },
      { flag: '--default-not-ready-toleration-seconds', value: String(FAST_TOLERATION_SECONDS), optional: true },
      { flag: '--default-unreachable-toleration-seconds', value: String(FAST_TOLERATION_SECONDS), optional: true },
      // Secrets encrypted at rest by default (the file is generated once in the data dir by `up`).
      { flag: '--encryption-provider-config', value: layout.files.encryptionConfig, optional: true },
    ],
    // /readyz includes the etcd check; the CA appears in the cert dir on the first start.
    readiness: { kind: 'http', url: `${apiserver.url}/readyz`, caFile: apiserver.caFile },
    readyTimeoutMs: READY_TIMEOUT_MS,
    endpoints: { https: `${apiserver.address}:${apiserver.securePort}`, grpc: `${apiserver.address}:${apiserver.grpcPort}` },
  };
}

/** The gRPC address every component is pointed at with --master (their kubeconfigs name the HTTPS URL). */
function grpcAddress(layout: ClusterLayout): string {
  return `${layout.apiserver.address}:${layout.apiserver.grpcPort}`;
}

export function schedulerComponent(layout: ClusterLayout): ComponentDefinition {
  return {
    name: 'kube-scheduler',
    binary: 'kube-scheduler',
    group: 'control-plane',
    args: [
      { flag: '--kubeconfig', value: layout.files.schedulerKubeconfig },
      { flag: '--master', value: grpcAddress(layout) },
    ],
    readiness: { kind: 'settle', durationMs: SETTLE_MS },
    readyTimeoutMs: READY_TIMEOUT_MS,
    endpoints: {},
  };
}

export function controllerManagerComponent(layout: ClusterLayout): ComponentDefinition {
  const { address, port } = layout.controllerManager;
  return {
    name: 'kube-controller-manager',
    binary: 'kube-controller-manager',
    group: 'control-plane',
    args: [
      { flag: '--kubeconfig', value: layout.files.controllerManagerKubeconfig },
      { flag: '--master', value: grpcAddress(layout) },
      { flag: '--node-monitor-grace-period', value: NODE_MONITOR_GRACE_PERIOD },
      { flag: '--port', value: String(port) },
      { flag: '--bind-address', value: address },
      // Every node is this machine: one root serves them all (a directory per claim).
      { flag: '--local-path-root', value: layout.controllerManager.localPathRoot, optional: true },
      { flag: '--horizontal-pod-autoscaler-sync-period', value: HPA_SYNC_PERIOD, optional: true },
      { flag: '--horizontal-pod-autoscaler-downscale-stabilization', value: HPA_DOWNSCALE_STABILIZATION, optional: true },
    ],
    readiness: { kind: 'http', url: `http://${address}:${port}/healthz` },
    readyTimeoutMs: READY_TIMEOUT_MS,
    endpoints: { healthz: `${address}:${port}` },
  };
}

export function kubeletComponent(layout: ClusterLayout, worker: WorkerLayout): ComponentDefinition {
  const runtime = layout.options.runtime;
  return {
    name: `kubelet-${worker.name}`,
    binary: 'kubelet',
    group: `node:${worker.name}`,
    args: [
      { flag: '--kubeconfig', value: worker.kubeconfig },
      { flag: '--master', value: grpcAddress(layout) },
      { flag: '--hostname-override', value: worker.name },
      { flag: '--node-ip', value: worker.nodeIp },
      { flag: '--address', value: worker.nodeIp, optional: true },
      { flag: '--port', value: String(worker.kubeletPort) },
      { flag: '--root-dir', value: worker.rootDir },
      { flag: '--pod-ip-block', value: worker.podIpBlock },
      { flag: '--node-status-update-frequency', value: NODE_STATUS_UPDATE_FREQUENCY },
      // The kubelet API accepts only the API server's client certificate, issued from the cluster CA.
      { flag: '--client-ca-file', value: layout.apiserver.caFile },
      // The process runtime is the kubelet's default; asking for docker must not be silently ignored.
      { flag: '--container-runtime', value: runtime, optional: runtime === 'process' },
      // Process-runtime pods' nameserver: this node's kube-proxy. Applied (a resolv.conf per pod) only by a root kubelet,
      // with the DNS on port 53; otherwise pods get the search list in env and a warning saying so.
      ...(runtime === 'process' ? [{ flag: '--cluster-dns', value: worker.nodeIp, optional: true }] : []),
    ],
    // The kubelet API's scheme (HTTP or HTTPS) is the kubelet's choice; a TCP connect is true for both.
    readiness: { kind: 'tcp', host: worker.nodeIp, port: worker.kubeletPort },
    readyTimeoutMs: READY_TIMEOUT_MS,
    endpoints: { api: `${worker.nodeIp}:${worker.kubeletPort}` },
  };
}

export function proxyComponent(layout: ClusterLayout, worker: WorkerLayout): ComponentDefinition {
  const healthz = `${worker.nodeIp}:${worker.proxyHealthzPort}`;
  const metrics = `${worker.nodeIp}:${worker.proxyMetricsPort}`;
  const dns = `${worker.nodeIp}:${worker.dnsPort}`;
  return {
    name: `kube-proxy-${worker.name}`,
    binary: 'kube-proxy',
    group: `node:${worker.name}`,
    args: [
      { flag: '--kubeconfig', value: layout.files.proxyKubeconfig },
      { flag: '--master', value: grpcAddress(layout) },
      { flag: '--hostname-override', value: worker.name },
      { flag: '--bind-address', value: worker.nodeIp },
      { flag: '--proxy-mode', value: 'userspace', optional: true },
      { flag: '--ingress-address', value: `${worker.nodeIp}:${worker.ingressPort}`, optional: true },
      { flag: '--healthz-bind-address', value: healthz, optional: true },
      { flag: '--metrics-bind-address', value: metrics, optional: true },
      { flag: '--cluster-dns-address', value: dns, optional: true },
      // Pods whose only nameserver is this DNS still resolve names outside the cluster.
      { flag: '--dns-upstream', value: 'resolv.conf', optional: true },
    ],
    readiness: { kind: 'http', url: `http://${healthz}/healthz` },
    fallback: { whenFlagMissing: '--healthz-bind-address', readiness: { kind: 'settle', durationMs: SETTLE_MS } },
    readyTimeoutMs: READY_TIMEOUT_MS,
    endpoints: { ingress: `${worker.nodeIp}:${worker.ingressPort}`, healthz, metrics, dns },
  };
}

/** The --hostname-override of the ingress proxy. */
export const INGRESS_PROXY_NAME = 'kube-lite-ingress';

/**
 * The cluster's ingress on 127.0.0.1:<ingress-port>: a kube-proxy of its own
 * rather than one of the workers' (the address can have one holder, and a
 * worker's proxy dies with its node in `stop-node`). It proxies straight to
 * ready endpoints, so it keeps answering while a node is down: a request to a
 * dead pod's address is refused at once and retried on another endpoint, and
 * the endpoints controller drops the dead pods within the node grace period.
 * Like any kube-proxy it also serves Service addresses and NodePorts (on
 * 127.0.0.1); those it shares with the workers' proxies by takeover.
 */
export function ingressComponent(layout: ClusterLayout): ComponentDefinition {
  const { ingress } = layout;
  const healthz = `${ingress.address}:${ingress.healthzPort}`;
  const metrics = `${ingress.address}:${ingress.metricsPort}`;
  return {
    name: 'kube-proxy-ingress',
    binary: 'kube-proxy',
    group: 'control-plane',
    args: [
      { flag: '--kubeconfig', value: layout.files.proxyKubeconfig },
      { flag: '--master', value: grpcAddress(layout) },
      // Not a node: the name matters only to Services with a Local traffic policy, which find no endpoints here.
      { flag: '--hostname-override', value: INGRESS_PROXY_NAME },
      { flag: '--bind-address', value: ingress.address },
      { flag: '--proxy-mode', value: 'userspace', optional: true },
      { flag: '--ingress-address', value: `${ingress.address}:${ingress.port}` },
      { flag: '--healthz-bind-address', value: healthz, optional: true },
      { flag: '--metrics-bind-address', value: metrics, optional: true },
      { flag: '--cluster-dns-address', value: 'none', optional: true },
    ],
    readiness: { kind: 'http', url: `http://${healthz}/healthz` },
    fallback: { whenFlagMissing: '--healthz-bind-address', readiness: { kind: 'settle', durationMs: SETTLE_MS } },
    readyTimeoutMs: READY_TIMEOUT_MS,
    endpoints: { ingress: `${ingress.address}:${ingress.port}`, healthz, metrics },
  };
}

/** A node's components, kubelet first. */
export function workerComponents(layout: ClusterLayout, worker: WorkerLayout): ComponentDefinition[] {
  return [kubeletComponent(layout, worker), proxyComponent(layout, worker)];
}

/** Every component of the cluster in start order. */
export function clusterComponents(layout: ClusterLayout): ComponentDefinition[] {
  return [
    ...layout.etcd.map((member) => etcdMemberComponent(layout, member)),
    apiserverComponent(layout),
    schedulerComponent(layout),
    controllerManagerComponent(layout),
    ingressComponent(layout),
    ...layout.workers.flatMap((worker) => workerComponents(layout, worker)),
  ];
}

export interface ResolvedArguments {
  args: string[];
  readiness: ReadinessCheck;
  /** Optional flags left out because the binary does not list them. */
  dropped: string[];
  /** Required flags the binary does not list. */
  unsupported: string[];
}

/**
 * Turns a definition into argv. `acceptedFlags` is what the binary's --help
 * lists, or undefined when its help could not be read (then every flag is
 * passed and the binary itself is the judge).
 */
export function resolveArguments(definition: ComponentDefinition, acceptedFlags: ReadonlySet<string> | undefined): ResolvedArguments {
  const args: string[] = [];
  const dropped: string[] = [];
  const unsupported: string[] = [];
  for (const argument of definition.args) {
    const accepted = acceptedFlags === undefined || acceptedFlags.has(argument.flag);
    if (!accepted && argument.optional === true) {
      dropped.push(argument.flag);
      continue;
    }
    if (!accepted) unsupported.push(argument.flag);
    args.push(argument.flag);
    if (argument.value !== undefined) args.push(argument.value);
  }
  const readiness = definition.fallback !== undefined && dropped.includes(definition.fallback.whenFlagMissing) ? definition.fallback.readiness : definition.readiness;
  return { args, readiness, dropped, unsupported };
}
