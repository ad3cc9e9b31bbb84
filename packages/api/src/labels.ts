// Label selectors: the string syntax of `?labelSelector=` and `kubectl -l`
// (`a=b,c!=d,e in (x,y),f notin (z),g,!h`), metav1.LabelSelector, matching,
// and printing back as upstream's String() does.
import { LabelSelectorError } from './errors';
import type { LabelSelector } from './types/meta';
import { FieldPath, aggregateMessage, invalid, type FieldError } from './validation/field';
import { isQualifiedName, isValidLabelValue } from './validation/names';

/** upstream selection.Operator values. */
export type SelectorOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Sorted and de-duplicated for set operators; one value for = == != gt lt; none for exists and !. */
  readonly values: readonly string[];
}

export type Labels = Readonly<Record<string, string>> | undefined | null;

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

/** An AND of requirements. `nothing` matches no object at all (a nil metav1.LabelSelector). */
export class Selector {
  private constructor(
    readonly requirements: readonly Requirement[],
    private readonly matchesNothing: boolean,
  ) {}

  static everything(): Selector {
    return new Selector([], false);
  }

  static nothing(): Selector {
    return new Selector([], true);
  }

  /** Requirements are kept sorted by key, as upstream does, so String() is deterministic. */
  static of(requirements: readonly Requirement[]): Selector {
    const sorted = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return new Selector(sorted, false);
  }

  matches(labels: Labels): boolean {
    if (this.matchesNothing) return false;
    return this.requirements.every((requirement) => requirementMatches(requirement, labels ?? {}));
  }

  /** True when the selector does not restrict anything (and is not `nothing`). */
  empty(): boolean {
    return !this.matchesNothing && this.requirements.length === 0;
  }

  isNothing(): boolean {
    return this.matchesNothing;
  }

  /** The single value the selector requires for `label`, if it pins one (for index lookups). */
  requiresExactMatch(label: string): string | undefined {
    const requirement = this.requirements.find((r) => r.key === label);
    if (!requirement) return undefined;
    if ((requirement.operator === '=' || requirement.operator === '==' || requirement.operator === 'in') && requirement.values.length === 1) {
      return requirement.values[0];
    }
    return undefined;
  }

  add(...requirements: Requirement[]): Selector {
    if (this.matchesNothing) return this;
    return Selector.of([...this.requirements, ...requirements]);
  }

  toString(): string {
    return this.requirements.map(requirementToString).join(',');
  }
}

function requirementMatches(requirement: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const value = has ? labels[requirement.key] : undefined;
  switch (requirement.operator) {
    case 'in':
    case '=':
    case '==':
      return value !== undefined && requirement.values.includes(value);
    case 'notin':
    case '!=':
      return value === undefined || !requirement.values.includes(value);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (value === undefined || !/^[+-]?\d+$/.test(value)) return false;
      const bound = requirement.values[0];
      if (bound === undefined || !/^[+-]?\d+$/.test(bound)) return false;
      const actual = BigInt(value);
      const limit = BigInt(bound);
      return requirement.operator === 'gt' ? actual > limit : actual < limit;
    }
  }
}

export function requirementToString(requirement: Requirement): string {
  const { key, operator, values } = requirement;
  switch (operator) {
    case '!':
      return `!${key}`;
    case 'exists':
      return key;
    case 'in':
    case 'notin':
      return `${key} ${operator} (${sortedUnique(values).join(',')})`;
    case 'gt':
      return `${key}>${values[0] ?? ''}`;
    case 'lt':
      return `${key}<${values[0] ?? ''}`;
    default:
      return `${key}${operator}${values[0] ?? ''}`;
  }
}

function sortedUnique(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}

/**
 * Builds a validated requirement (upstream NewRequirement). `path` is the
 * field path errors are reported under; upstream passes none, which prints
 * as the paths `key` and `values[i][key]`.
 */
export function newRequirement(key: string, operator: SelectorOperator, values: readonly string[], path?: FieldPath): Requirement {
  const errors: FieldError[] = [];
  const keyPath = path ? path.child('key') : FieldPath.root('key');
  for (const message of isQualifiedName(key)) errors.push(invalid(keyPath, key, message));
  const valuesPath = path ? path.child('values') : FieldPath.root('values');
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errors.push(invalid(valuesPath, [...values], "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errors.push(invalid(valuesPath, [...values], 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errors.push(invalid(valuesPath, [...values], 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errors.push(invalid(valuesPath, [...values], "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((value, i) => {
        if (!/^[+-]?\d+$/.test(value)) errors.push(invalid(valuesPath.index(i), value, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((value, i) => {
    const problems = isValidLabelValue(value);
    if (problems.length > 0) errors.push(invalid(valuesPath.index(i).key(key), value, problems.join('; ')));
  });
  if (errors.length > 0) throw new LabelSelectorError(aggregateMessage(errors));
  const normalized = operator === 'in' || operator === 'notin' ? sortedUnique(values) : [...values];
  return { key, operator, values: normalized };
}

// ---- string syntax ----

type TokenKind =
  | 'error'
  | 'end'
  | 'closePar'
  | 'comma'
  | 'doesNotExist'
  | 'doubleEquals'
  | 'equals'
  | 'greaterThan'
  | 'identifier'
  | 'in'
  | 'lessThan'
  | 'notEquals'
  | 'notIn'
  | 'openPar';

interface Token {
  kind: TokenKind;
  literal: string;
}

const SYMBOL_TOKENS: Record<string, TokenKind> = {
  ')': 'closePar',
  ',': 'comma',
  '!': 'doesNotExist',
  '==': 'doubleEquals',
  '=': 'equals',
  '>': 'greaterThan',
  '<': 'lessThan',
  '!=': 'notEquals',
  '(': 'openPar',
};
const KEYWORD_TOKENS: Record<string, TokenKind> = { in: 'in', notin: 'notIn' };

function isWhitespace(char: string): boolean {
  return char === ' ' || char === '\t' || char === '\r' || char === '\n';
}

function isSpecialSymbol(char: string): boolean {
  return '=!(),><'.includes(char);
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  for (;;) {
    while (position < input.length && isWhitespace(input[position] ?? '')) position += 1;
    if (position >= input.length) {
      tokens.push({ kind: 'end', literal: '' });
      return tokens;
    }
    const char = input[position] ?? '';
    if (isSpecialSymbol(char)) {
      // Longest run of symbols that still forms a known operator ("!=", "==").
      let buffer = '';
      let best: Token | undefined;
      while (position < input.length && isSpecialSymbol(input[position] ?? '')) {
        const candidate = buffer + (input[position] ?? '');
        const kind = SYMBOL_TOKENS[candidate];
        if (kind) {
          best = { kind, literal: candidate };
          buffer = candidate;
          position += 1;
        } else if (best) {
          break;
        } else {
          buffer = candidate;
          position += 1;
        }
      }
      tokens.push(best ?? { kind: 'error', literal: `error expected: keyword found '${buffer}'` });
      continue;
    }
    let word = '';
    while (position < input.length && !isSpecialSymbol(input[position] ?? '') && !isWhitespace(input[position] ?? '')) {
      word += input[position];
      position += 1;
    }
    tokens.push({ kind: KEYWORD_TOKENS[word] ?? 'identifier', literal: word });
  }
}

class SelectorParser {
  private position = 0;

  constructor(private readonly tokens: Token[]) {}

  /** In value context the keywords "in" and "notin" are plain identifiers. */
  private peek(valueContext: boolean): Token {
    const token = this.tokens[this.position] ?? { kind: 'end', literal: '' };
    return valueContext && (token.kind === 'in' || token.kind === 'notIn') ? { kind: 'identifier', literal: token.literal } : token;
  }

  private next(valueContext: boolean): Token {
    const token = this.peek(valueContext);
    this.position += 1;
    return token;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const token = this.peek(true);
      if (token.kind === 'end') return requirements;
      if (token.kind !== 'identifier' && token.kind !== 'doesNotExist') {
        throw new LabelSelectorError(`found '${token.literal}', expected: !, identifier, or 'end of string'`);
      }
      requirements.push(this.parseRequirement());
      const after = this.next(true);
      if (after.kind === 'end') return requirements;
      if (after.kind !== 'comma') throw new LabelSelectorError(`found '${after.literal}', expected: ',' or 'end of string'`);
      const following = this.peek(true);
      if (following.kind !== 'identifier' && following.kind !== 'doesNotExist') {
        throw new LabelSelectorError(`found '${following.literal}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): Requirement {
    let operator: SelectorOperator | undefined;
    let token = this.next(true);
    if (token.kind === 'doesNotExist') {
      operator = '!';
      token = this.next(true);
    }
    if (token.kind !== 'identifier') throw requirementError(`found '${token.literal}', expected: identifier`);
    const key = token.literal;
    const keyProblems = isQualifiedName(key);
    if (keyProblems.length > 0) throw requirementError(`<nil>: Invalid value: ${JSON.stringify(key)}: ${keyProblems.join('; ')}`);
    // "!a" never takes a value; whatever follows it is the caller's to reject.
    if (operator === '!') return wrapRequirement(key, '!', []);
    const lookahead = this.peek(true);
    if (lookahead.kind === 'end' || lookahead.kind === 'comma') return wrapRequirement(key, 'exists', []);
    const operatorToken = this.next(false);
    const binary = tokenOperator(operatorToken.kind);
    if (!binary) throw requirementError(`found '${operatorToken.literal}', expected: ${BINARY_OPERATORS.join(', ')}`);
    const values = binary === 'in' || binary === 'notin' ? this.parseValueSet() : this.parseExactValue();
    return wrapRequirement(key, binary, values);
  }

  private parseValueSet(): string[] {
    const open = this.next(true);
    if (open.kind !== 'openPar') throw requirementError(`found '${open.literal}' expected: '('`);
    const first = this.peek(true);
    if (first.kind === 'closePar') {
      this.next(true);
      return [''];
    }
    if (first.kind !== 'identifier' && first.kind !== 'comma') {
      throw requirementError(`found '${first.literal}', expected: ',', ')' or identifier`);
    }
    const values = new Set<string>();
    for (;;) {
      const token = this.next(true);
      if (token.kind === 'identifier') {
        values.add(token.literal);
        const after = this.peek(true);
        if (after.kind === 'comma') continue;
        if (after.kind === 'closePar') break;
        throw requirementError(`found '${after.literal}', expected: ',' or ')'`);
      } else if (token.kind === 'comma') {
        // Empty values are allowed: "(,a)", "(a,)" and "(a,,b)" all contain "".
        if (values.size === 0) values.add('');
        const after = this.peek(true);
        if (after.kind === 'closePar') {
          values.add('');
          break;
        }
        if (after.kind === 'comma') values.add('');
      } else {
        throw requirementError(`found '${token.literal}', expected: ',', or identifier`);
      }
    }
    const close = this.next(true);
    if (close.kind !== 'closePar') throw requirementError(`found '${first.literal}', expected: ')'`);
    return [...values].sort();
  }

  private parseExactValue(): string[] {
    const lookahead = this.peek(true);
    if (lookahead.kind === 'end' || lookahead.kind === 'comma') return [''];
    const token = this.next(true);
    if (token.kind === 'identifier') return [token.literal];
    throw requirementError(`found '${token.literal}', expected: identifier`);
  }
}

function tokenOperator(kind: TokenKind): SelectorOperator | undefined {
  switch (kind) {
    case 'in':
      return 'in';
    case 'notIn':
      return 'notin';
    case 'equals':
      return '=';
    case 'doubleEquals':
      return '==';
    case 'notEquals':
      return '!=';
    case 'greaterThan':
      return 'gt';
    case 'lessThan':
      return 'lt';
    default:
      return undefined;
  }
}

function requirementError(message: string): LabelSelectorError {
  return new LabelSelectorError(`unable to parse requirement: ${message}`);
}

function wrapRequirement(key: string, operator: SelectorOperator, values: string[]): Requirement {
  try {
    return newRequirement(key, operator, values);
  } catch (error) {
    if (error instanceof LabelSelectorError) throw requirementError(error.message);
    throw error;
  }
}

/** Parses the string syntax; throws LabelSelectorError with upstream's message. "" selects everything. */
export function parseSelector(selector: string): Selector {
  return Selector.of(new SelectorParser(tokenize(selector)).parse());
}

/** A selector requiring each label of `set` to equal its value (labels.SelectorFromSet). */
export function selectorFromSet(set: Labels): Selector {
  return Selector.of(Object.entries(set ?? {}).map(([key, value]) => ({ key, operator: '=' as const, values: [value] })));
}

/**
 * metav1.LabelSelectorAsSelector: nil selects nothing, an empty selector
 * selects everything. Throws LabelSelectorError for invalid input.
 */
export function labelSelectorAsSelector(selector: LabelSelector | null | undefined): Selector {
  if (selector === null || selector === undefined) return Selector.nothing();
  const matchLabels = selector.matchLabels ?? {};
  const expressions = selector.matchExpressions ?? [];
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return Selector.everything();
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(matchLabels)) requirements.push(newRequirement(key, '=', [value]));
  for (const expression of expressions) {
    const operator = LABEL_SELECTOR_OPERATORS[expression.operator];
    if (!operator) throw new LabelSelectorError(`${JSON.stringify(expression.operator)} is not a valid label selector operator`);
    requirements.push(newRequirement(expression.key, operator, expression.values ?? []));
  }
  return Selector.of(requirements);
}

const LABEL_SELECTOR_OPERATORS: Record<string, SelectorOperator | undefined> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/** What kubectl describe prints for a selector: its string form, "<none>" when empty, "<error>" when invalid. */
export function formatLabelSelector(selector: LabelSelector | null | undefined): string {
  try {
    const text = labelSelectorAsSelector(selector).toString();
    return text.length === 0 ? '<none>' : text;
  } catch {
    return '<error>';
  }
}

/** Whether `labels` satisfy a metav1.LabelSelector (nil matches nothing; invalid selectors match nothing). */
export function labelSelectorMatches(selector: LabelSelector | null | undefined, labels: Labels): boolean {
  try {
    return labelSelectorAsSelector(selector).matches(labels);
  } catch {
    return false;
  }
}

/** labels.Set.String(): "a=b,c=d" sorted by key. */
export function formatLabels(labels: Labels): string {
  return Object.keys(labels ?? {})
    .sort()
    .map((key) => `${key}=${(labels ?? {})[key]}`)
    .join(',');
}
