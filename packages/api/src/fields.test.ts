import { checkFieldSelector, fieldSelectorMatches, objectFields, parseFieldSelector, supportedFieldLabels } from './fields';
import { FieldSelectorParseError, UnsupportedFieldLabelError } from './errors';

const pod = {
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'default' },
  spec: { nodeName: 'node-a', restartPolicy: 'Always', schedulerName: 'default-scheduler', containers: [] },
  status: { phase: 'Running', podIP: '10.0.0.5' },
};

describe('parseFieldSelector', () => {
  test.each([
    ['', ''],
    ['metadata.name=x', 'metadata.name=x'],
    ['metadata.name==x', 'metadata.name=x'],
    ['status.phase!=Succeeded,status.phase!=Failed', 'status.phase!=Failed,status.phase!=Succeeded'],
    ['spec.nodeName=', 'spec.nodeName='],
    ['a=b\\,c', 'a=b\\,c'],
  ])('%p prints as %p', (input, printed) => {
    expect(parseFieldSelector(input).toString()).toBe(printed);
  });

  test.each([
    ['metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: ='],
    ['a=b\\x', 'invalid field selector: invalid escape sequence: \\x'],
  ])('error for %p', (input, message) => {
    expect(() => parseFieldSelector(input)).toThrow(FieldSelectorParseError);
    expect(() => parseFieldSelector(input)).toThrow(message);
  });
});

describe('per-kind fields', () => {
  test.each([
    ['metadata.name=web-1', true],
    ['metadata.namespace=default', true],
    ['spec.nodeName=node-a', true],
    ['spec.nodeName=node-b', false],
    ['spec.nodeName=node-a,status.phase!=Succeeded,status.phase!=Failed', true],
    ['status.phase!=Running', false],
    ['status.podIP=10.0.0.5', true],
    ['spec.hostNetwork=false', true],
  ])('pod %p -> %p', (selector, expected) => {
    const parsed = parseFieldSelector(selector);
    checkFieldSelector('Pod', parsed);
    expect(fieldSelectorMatches('Pod', parsed, pod)).toBe(expected);
  });

  test('events select on involvedObject.*', () => {
    const event = { kind: 'Event', metadata: { name: 'e', namespace: 'default' }, involvedObject: { name: 'x', namespace: 'default', uid: 'u1', kind: 'Pod' }, source: { component: 'kubelet' }, type: 'Normal', reason: 'Started' };
    const selector = parseFieldSelector('involvedObject.name=x,involvedObject.namespace=default,involvedObject.uid=u1');
    checkFieldSelector('Event', selector);
    expect(fieldSelectorMatches('Event', selector, event)).toBe(true);
    expect(objectFields('Event', event)).toMatchObject({ source: 'kubelet', type: 'Normal', reason: 'Started', 'involvedObject.kind': 'Pod' });
  });

  test.each([
    ['Pod', 'spec.foo', 'field label not supported: spec.foo'],
    ['Node', 'metadata.namespace', 'field label not supported: metadata.namespace'],
    ['ConfigMap', 'data.x', 'field label not supported: data.x'],
  ])('%s rejects %s', (kind, field, message) => {
    expect(() => checkFieldSelector(kind, parseFieldSelector(`${field}=1`))).toThrow(UnsupportedFieldLabelError);
    expect(() => checkFieldSelector(kind, parseFieldSelector(`${field}=1`))).toThrow(message);
  });

  test.each([
    ['Secret', 'type'],
    ['Node', 'spec.unschedulable'],
    ['Namespace', 'status.phase'],
  ])('%s supports %s', (kind, field) => {
    expect(supportedFieldLabels(kind)).toContain(field);
  });

  test('node unschedulable is a string boolean', () => {
    expect(objectFields('Node', { spec: { unschedulable: true } })['spec.unschedulable']).toBe('true');
    expect(objectFields('Node', {})['spec.unschedulable']).toBe('false');
  });
});
