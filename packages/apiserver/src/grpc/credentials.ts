// Server TLS for the gRPC front end: the same serving certificate and cluster
// CA as HTTPS. Like the HTTPS server, it asks for a client certificate but
// does not require one (token callers have none); a certificate that chains to
// the CA then authenticates its subject. grpc-js's plain createSsl can only
// either ignore client certificates or require them, so we use its
// certificate-provider credentials with certificates fixed at start.

import * as grpc from '@grpc/grpc-js';

/** PEM material of the gRPC listener. */
export interface GrpcTlsMaterial {
  /** The serving certificate chain (PEM). */
  certificatePem: string;
  /** The serving certificate's private key (PEM). */
  privateKeyPem: string;
  /** When set, clients may authenticate with certificates signed by this CA (PEM). */
  clientCaPem?: string;
}

type Listener<T> = (update: T | null) => void;

/** Hands out fixed certificates; listeners hear them in a microtask, once grpc-js is ready to listen. */
class FixedProvider implements grpc.experimental.CertificateProvider {
  private readonly caListeners = new Set<Listener<grpc.experimental.CaCertificateUpdate>>();
  private readonly identityListeners = new Set<Listener<grpc.experimental.IdentityCertificateUpdate>>();

  constructor(
    private readonly ca: grpc.experimental.CaCertificateUpdate | undefined,
    private readonly identity: grpc.experimental.IdentityCertificateUpdate | undefined,
  ) {}

  addCaCertificateListener(listener: Listener<grpc.experimental.CaCertificateUpdate>): void {
    this.caListeners.add(listener);
    // grpc-js subscribes the listening server only after adding our listener: answering synchronously would update nobody.
    queueMicrotask(() => {
      if (this.caListeners.has(listener) && this.ca !== undefined) listener(this.ca);
    });
  }

  removeCaCertificateListener(listener: Listener<grpc.experimental.CaCertificateUpdate>): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: Listener<grpc.experimental.IdentityCertificateUpdate>): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => {
      if (this.identityListeners.has(listener) && this.identity !== undefined) listener(this.identity);
    });
  }

  removeIdentityCertificateListener(listener: Listener<grpc.experimental.IdentityCertificateUpdate>): void {
    this.identityListeners.delete(listener);
  }
}

/** Credentials for grpc.Server#bindAsync. */
export function serverCredentials(tls: GrpcTlsMaterial): grpc.ServerCredentials {
  const identity = { certificate: Buffer.from(tls.certificatePem), privateKey: Buffer.from(tls.privateKeyPem) };
  if (tls.clientCaPem === undefined) {
    return grpc.ServerCredentials.createSsl(null, [{ cert_chain: identity.certificate, private_key: identity.privateKey }], false);
  }
  // One provider in both roles: grpc-js 1.14's factory passes its two provider arguments to the constructor in
  // the opposite order of its declaration, and a provider that answers both questions works either way.
  const provider = new FixedProvider({ caCertificate: Buffer.from(tls.clientCaPem) }, identity);
  return grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
}
