// Errors a runtime reports. Each carries the waiting `reason` the kubelet
// shows in the container status when it stops a container from being created.

/** Base of the failures a container runtime reports to the kubelet. */
export class RuntimeError extends Error {
  constructor(message: string, readonly reason: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

/** The image is not one this runtime knows how to run (upstream's ErrImageNeverPull counterpart). */
export class ImageNotKnownError extends RuntimeError {
  constructor(image: string, knownImages: string[]) {
    super(
      `image "${image}" is not one the process runtime can run: give the container a command, or use one of: ${knownImages.join(', ')}`,
      'ImageNotKnown',
    );
    this.name = 'ImageNotKnownError';
  }
}

export class ContainerNotFoundError extends RuntimeError {
  constructor(readonly containerId: string) {
    super(`container "${containerId}" not found`, 'ContainerNotFound');
    this.name = 'ContainerNotFoundError';
  }
}

export class SandboxNotFoundError extends RuntimeError {
  constructor(readonly sandboxId: string) {
    super(`pod sandbox "${sandboxId}" not found`, 'SandboxNotFound');
    this.name = 'SandboxNotFoundError';
  }
}

/** An operation that needs a running container (exec, start) met one in another state. */
export class ContainerStateError extends RuntimeError {
  constructor(containerId: string, state: string, operation: string) {
    super(`cannot ${operation} container "${containerId}": it is ${state}`, 'ContainerNotRunning');
    this.name = 'ContainerStateError';
  }
}

/** The node's pod address block has no free address left. */
export class AddressExhaustedError extends RuntimeError {
  constructor(block: string) {
    super(`no free pod IP left in ${block}`, 'PodIPExhausted');
    this.name = 'AddressExhaustedError';
  }
}

/** The container's process could not be started (missing executable, bad working directory). */
export class ContainerStartError extends RuntimeError {
  constructor(containerId: string, detail: string, options?: { cause?: unknown }) {
    super(`cannot start container "${containerId}": ${detail}`, 'RunContainerError', options);
    this.name = 'ContainerStartError';
  }
}

/** The container has no stdin to attach to (not created with stdin: true, or adopted from an earlier kubelet). */
export class StdinNotAvailableError extends RuntimeError {
  constructor(containerId: string, detail: string) {
    super(`cannot attach to the stdin of container "${containerId}": ${detail}`, 'StdinNotAvailable');
    this.name = 'StdinNotAvailableError';
  }
}

/** A pod's mount namespace (process runtime) could not be created or entered; the pod then runs without one. */
export class MountNamespaceError extends RuntimeError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`pod mount namespace: ${detail}`, 'MountNamespaceFailed', options);
    this.name = 'MountNamespaceError';
  }
}
