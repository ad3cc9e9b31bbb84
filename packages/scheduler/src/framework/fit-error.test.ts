import { makePod } from '../test-fixtures';
import { emptyDiagnosis, FitError, fitErrorMessage } from './fit-error';
import { Status } from './status';
import type { Diagnosis } from './types';

function diagnosisOf(statuses: Record<string, Status>, extra: Partial<Diagnosis> = {}): Diagnosis {
  return { ...emptyDiagnosis(), nodeToStatus: new Map(Object.entries(statuses)), ...extra };
}

const taint = 'node(s) had untolerated taint {node.kubernetes.io/unreachable: }';

describe('FitError message', () => {
  test.each([
    [
      // The issue lists "2 Insufficient cpu" first, but upstream sorts the
      // "<count> <reason>" strings, so "1 node(s)..." comes first.
      'the issue example, upstream order, without a preemption tail',
      3,
      diagnosisOf({ a: Status.unschedulable('Insufficient cpu'), b: Status.unschedulable('Insufficient cpu'), c: Status.unresolvable(taint) }),
      `0/3 nodes are available: 1 ${taint}, 2 Insufficient cpu.`,
    ],
    [
      'every reason of a node counts',
      2,
      diagnosisOf({ a: Status.unschedulable('Insufficient cpu', 'Insufficient memory'), b: Status.unschedulable('Insufficient memory') }),
      '0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.',
    ],
    [
      'sorted as strings, like Go sort.Strings ("10 ..." before "2 ...")',
      12,
      diagnosisOf({
        ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`z${i}`, Status.unresolvable('node(s) were unschedulable')])),
        y1: Status.unschedulable('Insufficient cpu'),
        y2: Status.unschedulable('Insufficient cpu'),
      }),
      '0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient cpu.',
    ],
    [
      'upper case sorts before lower case (byte order)',
      2,
      diagnosisOf({ a: Status.unschedulable('node(s) x'), b: Status.unschedulable('Too many pods') }),
      '0/2 nodes are available: 1 Too many pods, 1 node(s) x.',
    ],
    [
      'a PreFilter rejection replaces the histogram',
      3,
      diagnosisOf({ a: Status.unresolvable('pvc not found'), b: Status.unresolvable('pvc not found') }, { preFilterMessage: 'pvc not found' }),
      '0/3 nodes are available: pvc not found.',
    ],
    [
      'a PostFilter message is appended',
      1,
      diagnosisOf({ a: Status.unschedulable('Insufficient cpu') }, { postFilterMessage: 'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.' }),
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    ],
    ['no reasons at all', 0, diagnosisOf({}), '0/0 nodes are available:'],
  ])('%s', (_name, numAllNodes, diagnosis, expected) => {
    expect(fitErrorMessage(numAllNodes, diagnosis)).toBe(expected);
  });

  test('FitError carries the message and can refresh it after PostFilter', () => {
    const diagnosis = diagnosisOf({ a: Status.unschedulable('Too many pods') });
    const error = new FitError(makePod('p'), 1, diagnosis);
    expect(error.message).toBe('0/1 nodes are available: 1 Too many pods.');
    diagnosis.postFilterMessage = 'extra.';
    error.refreshMessage();
    expect(error.message).toBe('0/1 nodes are available: 1 Too many pods. extra.');
  });
});
