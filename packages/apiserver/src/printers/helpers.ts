// Cell formatting shared by the kind printers, matching kubectl's spelling of
// empty values and lists.

import { formatLabelSelector } from '@kube-lite/api';

export const NONE = '<none>';

/** A comma-joined list, `<none>` when empty. */
export function joinedOrNone(values: readonly string[]): string {
  return values.length === 0 ? NONE : values.join(',');
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function podTemplateContainers(template: any): { names: string; images: string } {
  const containers: Array<{ name?: string; image?: string }> = template?.spec?.containers ?? [];
  return { names: containers.map((container) => container.name ?? '').join(','), images: containers.map((container) => container.image ?? '').join(',') };
}

/** A metav1.LabelSelector in string form (`app=web`), `<none>` when empty. */
export function selectorText(selector: unknown): string {
  try {
    const text = formatLabelSelector(selector as never);
    return text === '' ? NONE : text;
  } catch {
    return '<error>';
  }
}

/** A map selector (Service.spec.selector) as `a=b,c=d`, `<none>` when empty. */
export function mapSelectorText(selector: Record<string, string> | undefined): string {
  const entries = Object.entries(selector ?? {}).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  return entries.length === 0 ? NONE : entries.map(([key, value]) => `${key}=${value}`).join(',');
}

export function count(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}
