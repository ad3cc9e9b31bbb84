export * from './types';
export { Int64RangeError, int64ToNumber } from './int64';
export {
  decodeMessage,
  defaultEtcdProtoDir,
  encodeMessage,
  etcdConversionOptions,
  loadEtcdPackageDefinition,
  loadEtcdRoot,
  type EtcdMessageName,
  type EtcdMessageTypes,
} from './load';
