import type { Pod } from '@kube-lite/api';
import { CycleState } from '../../framework';
import { ClusterSnapshot, newPodInfo } from '../../snapshot';
import { makePod } from '../../test-fixtures';
import { BinderMissingError, newDefaultBinder } from '.';

describe('DefaultBinder', () => {
  test('binds through the PodBinder', async () => {
    const calls: [string, string][] = [];
    const binder = newDefaultBinder(undefined, { snapshot: new ClusterSnapshot(), binder: { bind: async (pod: Pod, node: string) => void calls.push([pod.metadata?.name ?? '', node]) } });
    expect(await binder.bind(new CycleState(), newPodInfo(makePod('web')), 'n1')).toBeUndefined();
    expect(calls).toEqual([['web', 'n1']]);
  });

  test('a failed bind is an Error status carrying the cause', async () => {
    const failure = Object.assign(new Error('pods "web" not found'), { code: 404 });
    const binder = newDefaultBinder(undefined, { snapshot: new ClusterSnapshot(), binder: { bind: async () => Promise.reject(failure) } });
    const status = await binder.bind(new CycleState(), newPodInfo(makePod('web')), 'n1');
    expect(status?.code).toBe('Error');
    expect(status?.cause).toBe(failure);
    expect(status?.message()).toBe('pods "web" not found');
  });

  test('requires a binder', () => {
    expect(() => newDefaultBinder(undefined, { snapshot: new ClusterSnapshot() })).toThrow(BinderMissingError);
  });
});
