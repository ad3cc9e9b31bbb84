// Failures only the Docker runtime reports. Each carries the waiting reason
// upstream's kubelet shows for the same situation, so `kubectl get pods`
// reads ErrImagePull / ImagePullBackOff / ErrImageNeverPull as users expect.
import { RuntimeError } from '../errors';

/** Pulling the image failed; the message is the registry's (or the daemon's) own. */
export class ImagePullError extends RuntimeError {
  constructor(readonly image: string, detail: string, options?: { cause?: unknown }) {
    super(`failed to pull image "${image}": ${detail}`, 'ErrImagePull', options);
    this.name = 'ImagePullError';
  }
}

/** A pull of this image failed recently; the next attempt waits until the back-off ends. */
export class ImagePullBackOffError extends RuntimeError {
  constructor(readonly image: string, readonly retryAtMs: number, lastFailure: string) {
    super(`Back-off pulling image "${image}": ${lastFailure}`, 'ImagePullBackOff');
    this.name = 'ImagePullBackOffError';
  }
}

/** imagePullPolicy Never and the image is not on the node. */
export class ImageNeverPullError extends RuntimeError {
  constructor(readonly image: string) {
    super(`container image "${image}" is not present with pull policy of Never`, 'ErrImageNeverPull');
    this.name = 'ImageNeverPullError';
  }
}

/** The Docker daemon did not answer, or refused a request for a reason that is not the pod's fault. */
export class DockerDaemonError extends RuntimeError {
  constructor(operation: string, detail: string, options?: { cause?: unknown }) {
    super(`docker: ${operation}: ${detail}`, 'RuntimeError', options);
    this.name = 'DockerDaemonError';
  }
}

/** A new pod sandbox's network could not be set up (its route to the Service range); the sandbox is removed. */
export class PodNetworkSetupError extends RuntimeError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`pod sandbox network: ${detail}`, 'CreatePodSandboxError', options);
    this.name = 'PodNetworkSetupError';
  }
}
