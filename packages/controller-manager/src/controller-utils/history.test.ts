import type { ControllerRevision, StatefulSet } from '@kube-lite/api';
import { FakeApiClient, RESOURCES } from '@kube-lite/client';
import { template } from '../test-support';
import { createRevision, newRevision, revisionHash, revisionName, revisionsBeyondLimit, sortRevisions, templateOfRevision } from './history';

const owner: StatefulSet = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default', uid: 'uid-web' }, spec: { selector: {}, template: template({ app: 'web' }) } };
const options = (image: string, collisionCount = 0) => ({ owner, ownerApiVersion: 'apps/v1', ownerKind: 'StatefulSet', template: template({ app: 'web' }, image), revision: 1, collisionCount });
const named = (name: string, revision: number): ControllerRevision => ({ apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name }, revision });

describe('ControllerRevision history', () => {
  test('a revision holds the template as a replace patch, labelled with its hash and owned by the workload', () => {
    const revision = newRevision(options('nginx:1'));
    const hash = revisionHash(template({ app: 'web' }, 'nginx:1'), 0);
    expect(revision.metadata).toEqual({
      name: `web-${hash}`,
      namespace: 'default',
      labels: { app: 'web', 'controller-revision-hash': hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'uid-web', controller: true, blockOwnerDeletion: true }],
    });
    expect(revision.data).toEqual({ spec: { template: { ...template({ app: 'web' }, 'nginx:1'), $patch: 'replace' } } });
    expect(templateOfRevision(revision)).toEqual(template({ app: 'web' }, 'nginx:1'));
  });

  test('the collision count changes the hash; a long owner name is cut so the name fits', () => {
    expect(revisionHash(template({ app: 'web' }), 0)).not.toBe(revisionHash(template({ app: 'web' }), 1));
    expect(revisionName('x'.repeat(300), 'abc')).toHaveLength(223 + 4);
  });

  test('createRevision reuses an equal revision and bumps the collision count past a different one', async () => {
    const client = new FakeApiClient();
    const first = await createRevision(client.controllerRevisions('default'), options('nginx:1'));
    expect(first.collisionCount).toBe(0);
    const again = await createRevision(client.controllerRevisions('default'), options('nginx:1'));
    expect(again.revision.metadata?.uid).toBe(first.revision.metadata?.uid);
    // A revision of another template squatting on the name nginx:2 would get.
    const squatter = newRevision(options('nginx:1'));
    (squatter.metadata as NonNullable<ControllerRevision['metadata']>).name = revisionName('web', revisionHash(template({ app: 'web' }, 'nginx:2'), 0));
    await client.controllerRevisions('default').create(squatter);
    const bumped = await createRevision(client.controllerRevisions('default'), options('nginx:2'));
    expect(bumped.collisionCount).toBe(1);
    expect(bumped.revision.metadata?.name).toBe(revisionName('web', revisionHash(template({ app: 'web' }, 'nginx:2'), 1)));
    expect(client.peekAll(RESOURCES.controllerRevisions)).toHaveLength(3);
    client.close();
  });

  test.each<[string, number, string[], string[]]>([
    ['within the limit', 4, [], []],
    ['oldest beyond the limit go', 2, [], ['r1', 'r2']],
    ['live revisions are kept and do not count', 1, ['r1', 'r4'], ['r2']],
    ['limit 0 keeps only live ones', 0, ['r4'], ['r1', 'r2', 'r3']],
  ])('revisionsBeyondLimit: %s', (_name, limit, live, deleted) => {
    const revisions = sortRevisions([named('r3', 3), named('r1', 1), named('r4', 4), named('r2', 2)]);
    expect(revisionsBeyondLimit(revisions, new Set(live), limit).map((revision) => revision.metadata?.name)).toEqual(deleted);
  });
});
