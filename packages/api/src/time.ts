// Kubernetes timestamps: metav1.Time is RFC 3339 with whole seconds and 'Z';
// metav1.MicroTime keeps six fractional digits.

/** Formats as metav1.Time does: "2024-01-02T03:04:05Z" (sub-second part dropped). */
export function formatTime(at: Date | number): string {
  const date = typeof at === 'number' ? new Date(at) : at;
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Formats as metav1.MicroTime does: "2024-01-02T03:04:05.123000Z". */
export function formatMicroTime(at: Date | number): string {
  const date = typeof at === 'number' ? new Date(at) : at;
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Parses an RFC 3339 timestamp to epoch milliseconds; undefined when absent or malformed. */
export function parseTime(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
