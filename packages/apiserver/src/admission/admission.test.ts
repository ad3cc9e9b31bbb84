// Admission plugins, table-driven: what each changes or refuses.

import { MASTERS_GROUP } from '../auth';
import { StatusError } from '../server';
import { AdmissionChain, DefaultTolerationSeconds, NamespaceLifecycle, ServiceAccountAdmission, type AdmissionAttributes } from './index';

const user = { name: 'admin', uid: '', groups: [MASTERS_GROUP] };

function attributes(overrides: Partial<AdmissionAttributes>): AdmissionAttributes {
  return { operation: 'CREATE', kind: 'Pod', resource: { group: '', resource: 'pods' }, subresource: '', namespace: 'default', name: 'p', dryRun: false, user, ...overrides };
}

const namespaces: Record<string, { metadata?: { deletionTimestamp?: string }; status?: { phase?: string } }> = {
  default: { status: { phase: 'Active' } },
  leaving: { metadata: { deletionTimestamp: '2024-01-01T00:00:00Z' }, status: { phase: 'Terminating' } },
};

describe('NamespaceLifecycle', () => {
  const lookups: Array<[string, boolean]> = [];
  const plugin = new NamespaceLifecycle(async (name, live) => {
    lookups.push([name, live]);
    return namespaces[name];
  });

  test.each([
    ['create in an active namespace', attributes({}), undefined],
    ['create in a missing namespace', attributes({ namespace: 'ghost' }), 'namespaces "ghost" not found'],
    ['create in a terminating namespace', attributes({ namespace: 'leaving' }), 'pods "p" is forbidden: unable to create new content in namespace leaving because it is being terminated'],
    ['subresource create in a missing namespace', attributes({ namespace: 'ghost', subresource: 'binding' }), undefined],
    ['update in a terminating namespace', attributes({ namespace: 'leaving', operation: 'UPDATE' }), undefined],
    ['delete of kube-system', attributes({ operation: 'DELETE', kind: 'Namespace', resource: { group: '', resource: 'namespaces' }, namespace: '', name: 'kube-system' }), 'namespaces "kube-system" is forbidden: this namespace may not be deleted'],
    ['delete of another namespace', attributes({ operation: 'DELETE', kind: 'Namespace', resource: { group: '', resource: 'namespaces' }, namespace: '', name: 'team' }), undefined],
  ])('%s', async (_label, input, message) => {
    const outcome = await plugin.validate(input).then(
      () => undefined,
      (error: unknown) => (error instanceof StatusError ? error.message : String(error)),
    );
    expect(outcome).toBe(message);
  });

  test('a namespace deleted through this server is looked up live afterwards', async () => {
    lookups.length = 0;
    await plugin.validate(attributes({ namespace: 'team', name: 'x' })).catch(() => undefined);
    expect(lookups).toEqual([['team', true]]);
  });
});

describe('pod defaults', () => {
  const chain = new AdmissionChain([new DefaultTolerationSeconds({ notReadyTolerationSeconds: 60, unreachableTolerationSeconds: 90 }), new ServiceAccountAdmission()]);

  test.each([
    ['plain pod', { spec: { containers: [] } }, 'default', ['node.kubernetes.io/not-ready:60', 'node.kubernetes.io/unreachable:90']],
    ['own account and a toleration of everything', { spec: { containers: [], serviceAccountName: 'robot', tolerations: [{ operator: 'Exists' }] } }, 'robot', [':']],
  ])('%s', async (_label, pod, account, tolerations) => {
    const input = attributes({ object: structuredClone(pod) as Record<string, unknown> });
    await chain.admit(input);
    const spec = (input.object as { spec: { serviceAccountName: string; tolerations: Array<{ key?: string; tolerationSeconds?: number }> } }).spec;
    expect(spec.serviceAccountName).toBe(account);
    expect(spec.tolerations.map((toleration) => `${toleration.key ?? ''}:${toleration.tolerationSeconds ?? ''}`)).toEqual(tolerations);
  });

  test('other kinds and updates are left alone', async () => {
    const input = attributes({ operation: 'UPDATE', object: { spec: { containers: [] } } });
    await chain.admit(input);
    expect(input.object).toEqual({ spec: { containers: [] } });
  });
});
