// Matching nodes against nodeSelector and nodeAffinity terms (upstream
// component-helpers nodeaffinity): terms are ORed, the requirements of a term
// ANDed; a malformed requirement makes its term match nothing, and so does an
// empty term. Shared by the scheduler (NodeAffinity), the DaemonSet controller
// and PersistentVolume node affinity.
import type { Node, NodeSelectorRequirement, NodeSelectorTerm } from './types';

const INTEGER = /^[+-]?[0-9]+$/;

function parseInteger(value: string | undefined): bigint | undefined {
  return value !== undefined && INTEGER.test(value) ? BigInt(value) : undefined;
}

/** Whether a requirement is well formed; upstream drops the whole term otherwise. */
function requirementValid(requirement: NodeSelectorRequirement): boolean {
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
    case 'NotIn':
      return values.length > 0;
    case 'Exists':
    case 'DoesNotExist':
      return values.length === 0;
    case 'Gt':
    case 'Lt':
      return values.length === 1 && parseInteger(values[0]) !== undefined;
    default:
      return false;
  }
}

function requirementMatches(requirement: NodeSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return has && values.includes(value ?? '');
    case 'NotIn':
      return !has || !values.includes(value ?? '');
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      const actual = parseInteger(value);
      const bound = parseInteger(values[0]);
      if (actual === undefined || bound === undefined) return false;
      return requirement.operator === 'Gt' ? actual > bound : actual < bound;
    }
    default:
      return false;
  }
}

/** matchFields supports only metadata.name with In/NotIn, as upstream. */
function fieldRequirementValid(requirement: NodeSelectorRequirement): boolean {
  return requirement.key === 'metadata.name' && (requirement.operator === 'In' || requirement.operator === 'NotIn') && (requirement.values ?? []).length === 1;
}

export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: Node): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  if (!expressions.every(requirementValid) || !fields.every(fieldRequirementValid)) return false;
  const labels = node.metadata?.labels ?? {};
  if (!expressions.every((requirement) => requirementMatches(requirement, labels))) return false;
  const fieldValues = { 'metadata.name': node.metadata?.name ?? '' };
  return fields.every((requirement) => requirementMatches(requirement, fieldValues));
}

/** True when any term matches. An empty list matches no node. */
export function nodeSelectorTermsMatch(terms: readonly NodeSelectorTerm[], node: Node): boolean {
  return terms.some((term) => nodeSelectorTermMatches(term, node));
}

/** spec.nodeSelector: every label must be present with the same value. */
export function nodeSelectorMapMatches(selector: Readonly<Record<string, string>>, node: Node): boolean {
  const labels = node.metadata?.labels ?? {};
  for (const [key, value] of Object.entries(selector)) if (labels[key] !== value) return false;
  return true;
}
