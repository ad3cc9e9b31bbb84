// Authorization and request parsing need one fact from a field selector: does
// it pin a field to a single value (spec.nodeName=worker-1, metadata.name=x)?
// Full selector parsing and matching belongs to @kube-lite/api; this only
// reads equality terms, which is enough to narrow a grant safely: any other
// term in the conjunction can only narrow the result further.

/** The value a field selector requires `field` to equal (`field=v` or `field==v` among its terms), or ``. */
export function exactFieldMatch(fieldSelector: string | null | undefined, field: string): string {
  if (fieldSelector === null || fieldSelector === undefined || fieldSelector === '') return '';
  // Terms are comma-separated; a backslash escapes a comma or equals sign inside a value.
  for (const term of fieldSelector.split(/(?<!\\),/)) {
    const equals = term.indexOf('=');
    if (equals <= 0 || term[equals - 1] === '!') continue;
    const key = term.slice(0, equals).trim();
    let value = term.slice(equals + 1);
    if (value.startsWith('=')) value = value.slice(1);
    if (key === field) return value.trim().replace(/\\(.)/g, '$1');
  }
  return '';
}
