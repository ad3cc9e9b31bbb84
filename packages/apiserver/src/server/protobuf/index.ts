// Kubernetes protobuf request bodies: what kubectl's typed clients send for
// create/update (kubectl create deployment|configmap|secret..., run, expose).
export { decodeProtobufObject, PROTOBUF_MAGIC, PROTOBUF_MEDIA_TYPE } from './decode';
export { decodableKinds } from './kinds';
