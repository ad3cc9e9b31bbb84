// Operating errors kube-proxy reports (each kind its own class, carrying the cause).

/** A listener could not be opened (address in use, not assignable, no permission for a low port). */
export class ListenError extends Error {
  constructor(
    readonly address: string,
    readonly port: number,
    readonly protocol: string,
    options?: { cause?: unknown },
  ) {
    const code = (options?.cause as { code?: unknown } | undefined)?.code;
    const hint = code === 'EACCES' ? ' (ports below 1024 need root)' : code === 'EADDRNOTAVAIL' ? ' (the address is not assigned to this machine)' : '';
    super(`cannot listen on ${protocol} ${address}:${port}: ${options?.cause instanceof Error ? options.cause.message : String(options?.cause)}${hint}`, options);
    this.name = 'ListenError';
  }
}
