// The API server's gRPC front end (proto/apiserver.proto) for kube-lite's
// components; it serves the same registry as the HTTPS front end.

export { DEFAULT_GRPC_PORT, startGrpcFrontEnd, type GrpcFrontEndOptions, type RunningGrpcFrontEnd } from './front-end';
export type { GrpcTlsMaterial } from './credentials';
