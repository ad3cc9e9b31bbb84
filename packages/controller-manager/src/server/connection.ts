// How the manager reaches the API server's gRPC endpoint: the connection
// flags as every component reads them (loadClientConfig in @kube-lite/client:
// --master over the kubeconfig's server, --apiserver-grpc-port replacing its
// port, --ca-file and --token over the kubeconfig's, --insecure for
// plaintext development servers).
import { loadClientConfig, type GrpcApiClientOptions, type ReadTextFile } from '@kube-lite/client';
import type { ConnectionFlags } from './flags';

export function clientOptionsFromFlags(flags: ConnectionFlags, readFile?: ReadTextFile): GrpcApiClientOptions {
  return loadClientConfig(
    { kubeconfig: flags.kubeconfig, master: flags.master, token: flags.token, caFile: flags.caFile, insecure: flags.insecure, grpcPort: flags.apiserverGrpcPort },
    readFile,
  );
}
