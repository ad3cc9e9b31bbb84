// How the manager reaches the API server's gRPC endpoint:
//
//   address: --master (or --server) if given, else the kubeconfig's server;
//            --apiserver-grpc-port replaces its port (a kubeconfig names the
//            HTTPS port, the gRPC front end may listen on another).
//   CA:      --ca-file, else the kubeconfig's certificate-authority(-data).
//   token:   --token, else the kubeconfig user's token(File).
//   --insecure: plaintext, for development only.
import { readFileSync } from 'node:fs';
import type { GrpcApiClientOptions } from '@kube-lite/client';
import { FlagError, type ConnectionFlags } from './flags';
import { grpcAddressOf, parseKubeconfig, type KubeconfigConnection } from './kubeconfig';

export function clientOptionsFromFlags(flags: ConnectionFlags, readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): GrpcApiClientOptions {
  let kubeconfig: Partial<KubeconfigConnection> = {};
  if (flags.kubeconfig !== undefined) {
    let text: string;
    try {
      text = readFile(flags.kubeconfig);
    } catch (error) {
      throw new FlagError(`--kubeconfig: cannot read ${flags.kubeconfig}`, { cause: error });
    }
    kubeconfig = parseKubeconfig(text, flags.kubeconfig, readFile);
  }
  const server = flags.master ?? kubeconfig.server;
  if (server === undefined) throw new FlagError('no API server: give --kubeconfig or --master');
  let caPem = kubeconfig.caPem;
  if (flags.caFile !== undefined) {
    try {
      caPem = readFile(flags.caFile);
    } catch (error) {
      throw new FlagError(`--ca-file: cannot read ${flags.caFile}`, { cause: error });
    }
  }
  const token = flags.token ?? kubeconfig.token;
  const address = grpcAddressOf(server, flags.apiserverGrpcPort);
  if (flags.insecure) return { address, insecure: true, ...(token === undefined ? {} : { token }) };
  if (caPem === undefined) throw new FlagError('no cluster CA: give --ca-file, a --kubeconfig with certificate-authority(-data), or --insecure for a plaintext development server');
  const tls: NonNullable<GrpcApiClientOptions['tls']> = { caPem };
  if (kubeconfig.clientCertificatePem !== undefined && kubeconfig.clientKeyPem !== undefined) {
    tls.certPem = kubeconfig.clientCertificatePem;
    tls.keyPem = kubeconfig.clientKeyPem;
  }
  return { address, tls, ...(token === undefined ? {} : { token }) };
}
