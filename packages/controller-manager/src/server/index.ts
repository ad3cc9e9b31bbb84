export { parseFlags, parseDurationMs, FlagError, type ConnectionFlags, type ControllerManagerFlags } from './flags';
export { clientOptionsFromFlags } from './connection';
export { grpcAddressOf, KubeconfigError, parseKubeconfig, type KubeconfigConnection } from './kubeconfig';
export { serveHttp, type HttpEndpoints } from './http';
