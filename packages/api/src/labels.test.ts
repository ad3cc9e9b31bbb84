import {
  formatLabelSelector,
  labelSelectorAsSelector,
  labelSelectorMatches,
  parseSelector,
  Selector,
  selectorFromSet,
  formatLabels,
} from './labels';
import { LabelSelectorError } from './errors';

describe('parseSelector: string form', () => {
  test.each([
    ['', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a==b'],
    ['a!=b', 'a!=b'],
    ['x in (foo,,baz),y,z notin ()', 'x in (,baz,foo),y,z notin ()'],
    ['b=c, a in (y, x)', 'a in (x,y),b=c'],
    ['!h,g', 'g,!h'],
    ['app.kubernetes.io/name=web', 'app.kubernetes.io/name=web'],
    ['a=', 'a='],
    ['a>5,b<7', 'a>5,b<7'],
    ['x in (in,notin)', 'x in (in,notin)'],
  ])('%p prints as %p', (input, printed) => {
    expect(parseSelector(input).toString()).toBe(printed);
  });
});

describe('parseSelector: matching', () => {
  const labels = { app: 'web', tier: 'front', n: '10', empty: '' };
  test.each([
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app in (db,web)', true],
    ['app notin (db,web)', false],
    ['missing notin (x)', true],
    ['missing in (x)', false],
    ['tier', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app=web,tier=front', true],
    ['app=web,tier=back', false],
    ['n>5', true],
    ['n<5', false],
    ['app>5', false],
    ['empty=', true],
    ['empty in ()', true],
    ['', true],
  ])('%p matches: %p', (selector, expected) => {
    expect(parseSelector(selector).matches(labels)).toBe(expected);
  });
});

describe('parseSelector: errors with upstream wording', () => {
  test.each([
    ['a=b,', "found '', expected: identifier after ','"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['a in b', "unable to parse requirement: found 'b' expected: '('"],
    ['a in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a (b)', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=(b)', "unable to parse requirement: found '(', expected: identifier"],
    ['a>b', "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"],
    [
      'a$=b',
      "unable to parse requirement: <nil>: Invalid value: \"a$\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ],
    [
      'a=b$',
      "unable to parse requirement: values[0][a]: Invalid value: \"b$\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
  ])('%p', (input, message) => {
    let caught: unknown;
    try {
      parseSelector(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LabelSelectorError);
    expect((caught as Error).message).toBe(message);
  });
});

describe('metav1.LabelSelector', () => {
  test.each([
    [undefined, '<none>', false],
    [{}, '<none>', true],
    [{ matchLabels: { app: 'web' } }, 'app=web', true],
    [{ matchLabels: { app: 'db' } }, 'app=db', false],
    [{ matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['front', 'back'] }] }, 'tier in (back,front)', true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['front'] }] }, 'tier notin (front)', false],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' as const }] }, 'tier', true],
    [{ matchExpressions: [{ key: 'x', operator: 'DoesNotExist' as const }] }, '!x', true],
    [{ matchLabels: { z: '1' }, matchExpressions: [{ key: 'a', operator: 'Exists' as const }] }, 'a,z=1', false],
  ])('%j formats as %p and matches=%p', (selector, formatted, matches) => {
    expect(formatLabelSelector(selector)).toBe(formatted);
    expect(labelSelectorMatches(selector, { app: 'web', tier: 'front' })).toBe(matches);
  });

  test('nil selects nothing, empty selects everything', () => {
    expect(labelSelectorAsSelector(undefined).isNothing()).toBe(true);
    expect(labelSelectorAsSelector(null).matches({})).toBe(false);
    expect(labelSelectorAsSelector({}).empty()).toBe(true);
  });

  test.each([
    [{ matchExpressions: [{ key: 'a', operator: 'Bogus' as never }] }, '"Bogus" is not a valid label selector operator'],
    [{ matchExpressions: [{ key: 'a', operator: 'In' as const, values: [] }] }, "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"],
    [{ matchExpressions: [{ key: 'a', operator: 'Exists' as const, values: ['x'] }] }, 'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist'],
  ])('invalid %j', (selector, message) => {
    expect(() => labelSelectorAsSelector(selector)).toThrow(message);
    expect(formatLabelSelector(selector)).toBe('<error>');
  });
});

describe('helpers', () => {
  test('selectorFromSet and requiresExactMatch', () => {
    const selector = selectorFromSet({ b: '2', a: '1' });
    expect(selector.toString()).toBe('a=1,b=2');
    expect(selector.requiresExactMatch('a')).toBe('1');
    expect(selector.requiresExactMatch('c')).toBeUndefined();
    expect(selectorFromSet({}).empty()).toBe(true);
  });

  test('add keeps requirements sorted; nothing stays nothing', () => {
    expect(parseSelector('b=1').add({ key: 'a', operator: 'exists', values: [] }).toString()).toBe('a,b=1');
    expect(Selector.nothing().add({ key: 'a', operator: 'exists', values: [] }).matches({ a: 'x' })).toBe(false);
  });

  test('formatLabels sorts keys', () => {
    expect(formatLabels({ tier: 'front', app: 'web' })).toBe('app=web,tier=front');
    expect(formatLabels(undefined)).toBe('');
  });
});
