// The kubelet core's view of the outside world. The wiring (src/kubelet.ts)
// implements these over the API client's informers and status updates; tests
// and static pods use the in-memory versions below.
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, PodStatus, Secret, Service } from '@kube-lite/api';

/** The pods that should run on this node (including ones being deleted: deletionTimestamp set). */
export interface PodSource {
  listPods(): Pod[];
  /** Calls listener whenever the set or any pod changed; returns an unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** Receives what the kubelet observed. Called only when a pod's status changed. */
export interface StatusSink {
  writeStatus(pod: Pod, status: PodStatus): Promise<void>;
  /**
   * Every container of a pod being deleted has stopped and its final status was
   * written: the wiring can now delete the pod object with grace period 0.
   */
  podTerminated(pod: Pod): Promise<void>;
}

export interface SecretSource {
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
}

export interface ConfigMapSource {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
}

/** Claims and the volumes bound to them, for persistentVolumeClaim volumes. */
export interface PersistentVolumeSource {
  getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  getPersistentVolume(name: string): Promise<PersistentVolume | undefined>;
}

/** Every Service of the cluster, for the service environment variables of a container being started. */
export interface ServiceSource {
  listServices(): Promise<readonly Service[]>;
}

/** A PodSource holding pods in memory: for tests and static pods. */
export class InMemoryPodSource implements PodSource {
  private readonly pods = new Map<string, Pod>();
  private readonly listeners = new Set<() => void>();

  listPods(): Pod[] {
    return [...this.pods.values()];
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Adds or replaces a pod (keyed by metadata.uid). */
  setPod(pod: Pod): void {
    this.pods.set(pod.metadata?.uid ?? '', pod);
    this.notify();
  }

  deletePod(uid: string): void {
    if (this.pods.delete(uid)) this.notify();
  }

  getPod(uid: string): Pod | undefined {
    return this.pods.get(uid);
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}

/** Secrets, config maps, claims (keyed "namespace/name") and persistent volumes (by name) held in memory. */
export class InMemoryObjectSource implements SecretSource, ConfigMapSource, PersistentVolumeSource {
  readonly secrets = new Map<string, Secret>();
  readonly configMaps = new Map<string, ConfigMap>();
  readonly persistentVolumeClaims = new Map<string, PersistentVolumeClaim>();
  readonly persistentVolumes = new Map<string, PersistentVolume>();

  async getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return this.persistentVolumeClaims.get(`${namespace}/${name}`);
  }

  async getPersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return this.persistentVolumes.get(name);
  }

  async getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    return this.secrets.get(`${namespace}/${name}`);
  }

  async getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return this.configMaps.get(`${namespace}/${name}`);
  }
}

/** Services held in memory: for tests and static pods. */
export class InMemoryServiceSource implements ServiceSource {
  services: Service[] = [];

  async listServices(): Promise<readonly Service[]> {
    return this.services;
  }
}

/** Records written statuses: for tests. */
export class RecordingStatusSink implements StatusSink {
  readonly writes: { uid: string; status: PodStatus }[] = [];
  readonly terminated: string[] = [];

  async writeStatus(pod: Pod, status: PodStatus): Promise<void> {
    this.writes.push({ uid: pod.metadata?.uid ?? '', status: structuredClone(status) });
  }

  async podTerminated(pod: Pod): Promise<void> {
    this.terminated.push(pod.metadata?.uid ?? '');
  }

  /** The last status written for a pod. */
  latest(uid: string): PodStatus | undefined {
    for (let index = this.writes.length - 1; index >= 0; index--) if (this.writes[index]?.uid === uid) return this.writes[index]?.status;
    return undefined;
  }

  writesFor(uid: string): PodStatus[] {
    return this.writes.filter((write) => write.uid === uid).map((write) => write.status);
  }
}
