// Semantic comparison of pod templates, as upstream's apiequality.Semantic
// sees Go structs: null, "", {} and [] equal an absent field, quantities
// compare by value. The Deployment controller needs this to find the
// ReplicaSet `kubectl rollout undo` points back to: undo's template lacks the
// pod-template-hash label and carries creationTimestamp: null and resources: {}.
import { isPlainObject, jsonEqual } from './deepcopy';
import { Quantity } from './quantity';
import type { PodTemplateSpec } from './types/core';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';

/** Fields holding quantities whose spelling may differ ("1000m" vs "1"). */
const QUANTITY_MAPS = new Set(['limits', 'requests', 'overhead']);

function normalize(value: unknown, parentKey: string): unknown {
  if (value === null || value === undefined || value === '') return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => normalize(item, '') ?? null);
    return items.length === 0 ? undefined : items;
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(value)) {
      let normalized = normalize(member, key);
      if (QUANTITY_MAPS.has(parentKey) && (typeof member === 'string' || typeof member === 'number')) {
        const quantity = Quantity.tryParse(member);
        if (quantity) normalized = quantity.nanos.toString();
      }
      if (normalized !== undefined) out[key] = normalized;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value;
}

/** Semantic equality of two JSON values (see the file comment). */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return jsonEqual(normalize(a, '') ?? null, normalize(b, '') ?? null);
}

function withoutHash(template: PodTemplateSpec | undefined): unknown {
  if (!template) return undefined;
  const labels = { ...(template.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  return { ...template, metadata: { ...(template.metadata ?? {}), labels } };
}

/** upstream EqualIgnoreHash: templates equal apart from the pod-template-hash label. */
export function podTemplatesEqualIgnoringHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return semanticEqual(withoutHash(a), withoutHash(b));
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isPlainObject(value)) {
    return `{${Object.keys(value)
      .filter((key) => value[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The pod-template-hash label value of a template: FNV-1a (32 bit) of its
 * canonical JSON plus the collision count, spelled with upstream's
 * vowel-free alphabet. Stable across runs; not byte-identical to upstream's.
 */
export function podTemplateHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let text = canonicalJson(normalize(withoutHash(template), '') ?? null);
  if (collisionCount !== undefined) text += `#${collisionCount}`;
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // Like upstream's rand.SafeEncodeString: each character code of the decimal hash picks a letter.
  return [...String(hash)].map((char) => SAFE_ALPHABET[char.charCodeAt(0) % SAFE_ALPHABET.length] ?? 'b').join('');
}
