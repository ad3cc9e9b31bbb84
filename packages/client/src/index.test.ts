// The public entry: what other packages import must exist and work when
// loaded through index.ts (as jest's moduleNameMapper and the build load it).
import * as client from './index';

describe('@kube-lite/client entry', () => {
  it.each([
    'ApiError',
    'isNotFound',
    'isConflict',
    'isAlreadyExists',
    'isGone',
    'GrpcApiClient',
    'FakeApiClient',
    'SharedInformer',
    'SharedInformerFactory',
    'Indexer',
    'Lister',
    'DeletedFinalStateUnknown',
    'WorkQueue',
    'runWorkers',
    'LeaderElector',
    'EventRecorder',
    'JsonLogger',
    'RESOURCES',
    'loadApiServerPackageDefinition',
    'statusToServiceError',
    'apiErrorFromGrpc',
  ])('exports %s', (name) => {
    expect((client as Record<string, unknown>)[name]).toBeDefined();
  });

  it('loads the ApiServer service from proto/apiserver.proto with every RPC', () => {
    const service = client.loadApiServerPackageDefinition()[client.API_SERVER_SERVICE_NAME] as Record<string, { path: string; responseStream: boolean }>;
    expect(Object.keys(service).sort()).toEqual(['Bind', 'BindMany', 'Create', 'Delete', 'Evict', 'Get', 'GetScale', 'List', 'Patch', 'Update', 'UpdateScale', 'UpdateStatus', 'Watch']);
    expect(service['Watch']).toMatchObject({ path: '/kubelite.apiserver.v1.ApiServer/Watch', responseStream: true });
  });

  it('JsonLogger writes one JSON object per line with the fixed fields', () => {
    const lines: string[] = [];
    const logger = new client.JsonLogger({ write: (line) => lines.push(line), now: () => new Date(0), fields: { component: 'test' }, level: 'info' });
    logger.debug('hidden');
    logger.child({ controller: 'deployment' }).warn('sync failed', { key: 'default/web', error: new Error('boom') });
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { level: 'warn', ts: '1970-01-01T00:00:00.000Z', msg: 'sync failed', component: 'test', controller: 'deployment', key: 'default/web', error: { name: 'Error', message: 'boom' } },
    ]);
  });
});
