// The Docker runtime: what the kubelet CLI and tests need.
export { DEFAULT_DOCKER_ENDPOINT, DEFAULT_PAUSE_IMAGE, DockerRuntime, dockerConnection, type DockerRuntimeOptions } from './docker-runtime';
export { defaultPullPolicy, type ContainerResources, type DockerContainerExtras, type PullPolicy } from './convert';
export { DockerDaemonError, ImageNeverPullError, ImagePullBackOffError, ImagePullError, PodNetworkSetupError } from './errors';
export { ServiceRouteError, serviceRoute, serviceRouteCommand, type ServiceRoute } from './service-route';
export { HostPathMapper, ownContainerId, type MountPair } from './host-paths';
