// Expected errors of the lessor; the server maps each to etcd's gRPC error.

export class LeaseNotFoundError extends Error {
  constructor(readonly leaseId: number) {
    super(`lease not found: ${leaseId.toString(16)}`);
    this.name = 'LeaseNotFoundError';
  }
}

export class LeaseExistsError extends Error {
  constructor(readonly leaseId: number) {
    super(`lease already exists: ${leaseId.toString(16)}`);
    this.name = 'LeaseExistsError';
  }
}

export class LeaseTtlTooLargeError extends Error {
  constructor(
    readonly ttlSeconds: number,
    readonly maxTtlSeconds: number,
  ) {
    super(`too large lease TTL: ${ttlSeconds}s (at most ${maxTtlSeconds}s)`);
    this.name = 'LeaseTtlTooLargeError';
  }
}

/** Renewals and expiry are decided by the leader's lessor only. */
export class NotPrimaryError extends Error {
  constructor() {
    super('not a primary lessor');
    this.name = 'NotPrimaryError';
  }
}
