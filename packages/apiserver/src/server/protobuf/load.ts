// Loads kube-lite's copy of the Kubernetes protobuf messages (proto/k8s) once
// per process as a protobufjs Root.

import * as path from 'node:path';
import * as protobuf from 'protobufjs';

/** proto/k8s at the repository root; src/server/protobuf and dist/server/protobuf are both five levels below it. */
export const defaultK8sProtoDir = path.resolve(__dirname, '../../../../../proto/k8s');

const protoFiles = [
  'apimachinery/runtime.proto',
  'api/core-v1.proto',
  'api/apps-v1.proto',
  'api/batch-v1.proto',
  'api/rbac-v1.proto',
  'api/networking-v1.proto',
  'api/policy-v1.proto',
];

/** options.proto extends descriptor.proto, which protobufjs ships in its own package. */
const protobufjsDir = path.dirname(require.resolve('protobufjs/package.json'));

const roots = new Map<string, protobuf.Root>();

/** The Root holding every message under its upstream package name (k8s.io.api.core.v1.ConfigMap...). */
export function loadK8sRoot(protoDir: string = defaultK8sProtoDir): protobuf.Root {
  let root = roots.get(protoDir);
  if (root === undefined) {
    root = new protobuf.Root();
    // Imports name files relative to proto/k8s, as protoc's --proto_path would.
    root.resolvePath = (_origin, target) => {
      if (path.isAbsolute(target)) return target;
      if (target.startsWith('google/protobuf/')) return path.join(protobufjsDir, target);
      return path.join(protoDir, target);
    };
    // keepCase: the proto field names are already the JSON names (clusterIP, podIPs).
    root.loadSync(protoFiles, { keepCase: true });
    root.resolveAll();
    roots.set(protoDir, root);
  }
  return root;
}
