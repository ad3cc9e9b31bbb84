import { duplicateJsonFields, duplicateYamlFields } from './duplicate-fields';
import { duplicateFields } from './media';

describe('duplicate fields in request bodies', () => {
  test.each([
    ['none', '{"a":1,"b":{"a":2}}', []],
    ['top level', '{"a":1,"a":2}', ['a']],
    ['nested', '{"spec":{"replicas":1,"template":{},"replicas":2}}', ['spec.replicas']],
    ['inside list items, by index', '{"spec":{"containers":[{"name":"a"},{"name":"b","name":"c"}]}}', ['spec.containers[1].name']],
    ['same key in sibling objects is fine', '{"a":{"x":1},"b":{"x":2}}', []],
    ['braces, quotes and escapes inside strings are text', '{"a":"{\\"a\\":1}","b":"x\\\\","b":"}"}', ['b']],
    ['escaped key spelled differently', '{"a":1,"\\u0061":2}', ['a']],
    ['whitespace everywhere', ' { "a" : [ 1 , 2 ] ,\n "a" : { } } ', ['a']],
  ])('JSON: %s', (_case, text, expected) => {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(duplicateJsonFields(text)).toEqual(expected);
  });

  test.each([
    ['none', 'a: 1\nb:\n  a: 2\n', []],
    ['nested', 'spec:\n  replicas: 1\n  replicas: 2\n', ['spec.replicas']],
    ['in a list item', 'items:\n- name: a\n  name: b\n', ['items[0].name']],
  ])('YAML: %s', (_case, text, expected) => {
    expect(duplicateYamlFields(text)).toEqual(expected);
  });

  test('by content type: JSON (also without one), YAML, nothing for others', () => {
    const body = Buffer.from('{"a":1,"a":2}');
    expect(duplicateFields(undefined, body)).toEqual(['a']);
    expect(duplicateFields('application/json; charset=utf-8', body)).toEqual(['a']);
    expect(duplicateFields('application/yaml', Buffer.from('a: 1\na: 2\n'))).toEqual(['a']);
    expect(duplicateFields('application/vnd.kubernetes.protobuf', body)).toEqual([]);
  });
});
