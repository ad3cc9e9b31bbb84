// Failures of the kubelet core that a user causes with a pod spec; each
// carries the waiting reason shown in the container's status.

/** A container's env or command references something missing (upstream CreateContainerConfigError). */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContainerConfigError';
  }
}

/** A volume could not be set up (upstream FailedMount); the pod stays in ContainerCreating. */
export class VolumeSetupError extends Error {
  readonly reason = 'ContainerCreating';
  constructor(readonly volumeName: string, detail: string, options?: { cause?: unknown }) {
    super(`MountVolume.SetUp failed for volume "${volumeName}": ${detail}`, options);
    this.name = 'VolumeSetupError';
  }
}
