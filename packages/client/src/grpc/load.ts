// Loads proto/apiserver.proto once per process as a grpc-js package
// definition; the client and the API server's gRPC front end both use this,
// so they decode messages with the same options.
import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

/** proto/ at the repository root; src/grpc and dist/grpc are both four levels below it. */
export const defaultApiServerProtoDir = path.resolve(__dirname, '../../../../proto');

/** Fully qualified service name, the key of the service in the package definition. */
export const API_SERVER_SERVICE_NAME = 'kubelite.apiserver.v1.ApiServer';

/**
 * How decoded messages look: proto field names unchanged (snake_case), int64
 * as decimal strings, bytes as Buffer, enums by name, scalar defaults filled
 * in, and the virtual `_field` member naming a set proto3 `optional`.
 */
export const apiServerConversionOptions = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  oneofs: true,
} as const;

const definitions = new Map<string, protoLoader.PackageDefinition>();

/** For grpc.loadPackageDefinition, or index by API_SERVER_SERVICE_NAME for the service definition. */
export function loadApiServerPackageDefinition(protoDir: string = defaultApiServerProtoDir): protoLoader.PackageDefinition {
  let definition = definitions.get(protoDir);
  if (definition === undefined) {
    definition = protoLoader.loadSync('apiserver.proto', { ...apiServerConversionOptions, includeDirs: [protoDir] });
    definitions.set(protoDir, definition);
  }
  return definition;
}
