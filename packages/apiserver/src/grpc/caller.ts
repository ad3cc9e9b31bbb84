// Who is calling over gRPC, decided by the same Authenticator the HTTPS front
// end uses. Authenticators read an HTTP request (the Authorization header, the
// TLS socket's verified peer certificate); a gRPC call carries the same facts
// as `authorization` metadata and its auth context, so we present them in the
// shape the authenticators read rather than teach every authenticator gRPC.

import type { IncomingMessage } from 'node:http';
import type { PeerCertificate } from 'node:tls';
import type { AuthenticationResult, Authenticator } from '../auth';

/** What a gRPC call knows about its caller. */
export interface CallCredentials {
  /** The `authorization` metadata value (`Bearer <token>`), if sent. */
  authorization: string | undefined;
  /**
   * The client certificate, present only when it chained to the cluster CA: grpc-js reports nothing for an
   * untrusted certificate, so such a caller is anonymous here where HTTPS would reject it (both end in 401
   * unless the call is allowed anonymously).
   */
  peerCertificate: PeerCertificate | undefined;
}

/** Runs the authenticator on a call's credentials. */
export function authenticateCall(authenticator: Authenticator, credentials: CallCredentials): AuthenticationResult {
  const certificate = credentials.peerCertificate;
  const headers: Record<string, string> = {};
  if (credentials.authorization !== undefined) headers.authorization = credentials.authorization;
  const socket = {
    getPeerCertificate: () => certificate ?? {},
    authorized: certificate !== undefined,
    authorizationError: undefined,
  };
  // Only `headers.authorization` and the socket's certificate verdict are read (see auth/authenticator.ts).
  const request = { headers, socket } as unknown as IncomingMessage;
  return authenticator.authenticate(request);
}
