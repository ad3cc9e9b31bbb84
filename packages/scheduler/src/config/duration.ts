/** Go durations as the configuration file writes them ("15s", "1m30s", "500ms"); undefined when malformed. */
export function tryParseDurationMs(text: string): number | undefined {
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    total += Number(match[1]) * (unitMs[match[2] ?? 's'] ?? 1000);
    consumed = pattern.lastIndex;
  }
  return text !== '' && consumed === text.length ? total : undefined;
}

/** Like tryParseDurationMs for values already validated; throws on a malformed one (a bug). */
export function parseDurationMs(text: string): number {
  const ms = tryParseDurationMs(text);
  if (ms === undefined) throw new Error(`invalid duration "${text}"`);
  return ms;
}
