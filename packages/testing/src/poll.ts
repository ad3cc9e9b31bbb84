/**
 * Polls until `check` returns a value, or fails naming `what`, the last
 * problem `check` threw and, when given, `picture()` of the system under test.
 */
export async function pollUntil<T>(what: string, timeoutMs: number, pollMs: number, check: () => Promise<T | undefined>, picture?: () => Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) {
      const seen = picture === undefined ? '' : await picture().catch((error: Error) => error.message);
      throw new Error(`${what}: not within ${timeoutMs / 1000} s. ${last}${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
