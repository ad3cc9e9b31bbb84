// Authentication: who is calling. Bearer tokens from the token file and client
// certificates signed by the cluster CA (CN = user, O = groups). A request
// with no credentials is anonymous; a request with wrong credentials is
// rejected (401), as upstream's union authenticator does.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { TokenEntry } from './token-file';
import { withAuthenticatedGroup, type UserInfo } from './user';

export type AuthenticationResult =
  | { kind: 'authenticated'; user: UserInfo; method: 'token' | 'x509' }
  | { kind: 'anonymous' }
  | { kind: 'rejected'; reason: string };

export interface Authenticator {
  authenticate(request: IncomingMessage): AuthenticationResult;
}

/** Bearer tokens: `Authorization: Bearer <token>`. */
export class TokenAuthenticator implements Authenticator {
  private readonly users = new Map<string, UserInfo>();

  constructor(entries: readonly TokenEntry[]) {
    for (const entry of entries) this.users.set(entry.token, entry.user);
  }

  authenticate(request: IncomingMessage): AuthenticationResult {
    const header = request.headers.authorization;
    if (header === undefined) return { kind: 'anonymous' };
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) return { kind: 'anonymous' };
    const user = this.users.get(match[1] as string);
    if (user === undefined) return { kind: 'rejected', reason: 'invalid bearer token' };
    return { kind: 'authenticated', user: withAuthenticatedGroup(user), method: 'token' };
  }
}

/**
 * Client certificates. The TLS server requests a certificate and checks it against the cluster CA without
 * rejecting the handshake, so this reads the verdict from the socket.
 */
export class ClientCertificateAuthenticator implements Authenticator {
  authenticate(request: IncomingMessage): AuthenticationResult {
    const socket = request.socket as Partial<TLSSocket>;
    if (typeof socket.getPeerCertificate !== 'function') return { kind: 'anonymous' };
    const certificate = socket.getPeerCertificate();
    if (certificate === null || Object.keys(certificate).length === 0) return { kind: 'anonymous' };
    if (socket.authorized !== true) {
      return { kind: 'rejected', reason: `client certificate not trusted: ${String(socket.authorizationError ?? 'unknown')}` };
    }
    const subject = certificate.subject as unknown as Record<string, string | string[] | undefined>;
    const commonName = subject.CN;
    const name = Array.isArray(commonName) ? commonName[0] : commonName;
    if (name === undefined || name === '') return { kind: 'rejected', reason: 'client certificate has no common name' };
    const organizations = subject.O;
    const groups = organizations === undefined ? [] : Array.isArray(organizations) ? organizations : [organizations];
    return { kind: 'authenticated', user: withAuthenticatedGroup({ name, uid: '', groups }), method: 'x509' };
  }
}

/** Tries each authenticator in order: the first success wins; otherwise any rejection wins over anonymous. */
export class UnionAuthenticator implements Authenticator {
  constructor(private readonly authenticators: readonly Authenticator[]) {}

  authenticate(request: IncomingMessage): AuthenticationResult {
    let rejection: AuthenticationResult | undefined;
    for (const authenticator of this.authenticators) {
      const result = authenticator.authenticate(request);
      if (result.kind === 'authenticated') return result;
      if (result.kind === 'rejected' && rejection === undefined) rejection = result;
    }
    return rejection ?? { kind: 'anonymous' };
  }
}
