import type { Container, Pod } from '@kube-lite/api';
import { ContainerConfigError } from '../errors';
import { InMemoryObjectSource } from '../sources';
import { buildContainerEnv, expandReferences, isValidEnvName, type EnvContext } from './env';

const pod: Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'uid-1', labels: { app: 'web', tier: 'front' }, annotations: { note: 'x', 'batch.kubernetes.io/job-completion-index': '3' } },
  spec: { nodeName: 'node-7', serviceAccountName: 'builder', containers: [{ name: 'app', resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m' } } }] },
};

function context(objects = new InMemoryObjectSource()): EnvContext {
  return { pod, podIP: '127.1.0.5', hostIP: '10.0.0.7', nodeAllocatable: { cpuMillis: 4000, memoryBytes: 8 * 1024 ** 3 }, secrets: objects, configMaps: objects };
}

function objects(): InMemoryObjectSource {
  const source = new InMemoryObjectSource();
  source.configMaps.set('shop/settings', { metadata: { name: 'settings' }, data: { MODE: 'fast', level: '3' } });
  source.secrets.set('shop/creds', { metadata: { name: 'creds' }, data: { token: Buffer.from('s3cret').toString('base64') } });
  return source;
}

describe('buildContainerEnv', () => {
  const cases: { name: string; container: Partial<Container>; expected: Record<string, string> }[] = [
    { name: 'plain values, POD_IP always', container: { env: [{ name: 'A', value: '1' }] }, expected: { A: '1', POD_IP: '127.1.0.5' } },
    {
      name: 'downward API fields',
      container: {
        env: [
          { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'LABELS', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } },
          { name: 'NOTE', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['note']" } } },
          // How the Job controller hands an Indexed Job's pod its index.
          { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        ],
      },
      expected: { NAME: 'web-1', NS: 'shop', UID: 'uid-1', APP: 'web', LABELS: 'app="web"\ntier="front"', NOTE: 'x', JOB_COMPLETION_INDEX: '3', NODE: 'node-7', SA: 'builder', IP: '127.1.0.5', HOST: '10.0.0.7', POD_IP: '127.1.0.5' },
    },
    {
      name: 'resource fields, node allocatable without a limit',
      container: {
        env: [
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
          { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
        ],
      },
      expected: { MEM: '64', CPU_REQ: '250', CPU_LIMIT: '4', POD_IP: '127.1.0.5' },
    },
    {
      name: 'config maps and secrets, envFrom with prefix, env wins',
      container: {
        envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }],
        env: [
          { name: 'CFG_MODE', value: 'slow' },
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
          { name: 'LEVEL', valueFrom: { configMapKeyRef: { name: 'settings', key: 'level' } } },
          { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'absent', key: 'x', optional: true } } },
        ],
      },
      expected: { CFG_MODE: 'slow', CFG_level: '3', TOKEN: 's3cret', LEVEL: '3', POD_IP: '127.1.0.5' },
    },
    {
      name: 'envFrom secret with a prefix; optional references to missing objects and keys are skipped',
      container: {
        envFrom: [{ secretRef: { name: 'creds' }, prefix: 'S_' }, { configMapRef: { name: 'absent', optional: true } }, { secretRef: { name: 'absent', optional: true } }],
        env: [
          { name: 'NO_KEY', valueFrom: { secretKeyRef: { name: 'creds', key: 'missing', optional: true } } },
          { name: 'NO_SECRET', valueFrom: { secretKeyRef: { name: 'absent', key: 'x', optional: true } } },
          { name: 'NO_CM_KEY', valueFrom: { configMapKeyRef: { name: 'settings', key: 'missing', optional: true } } },
        ],
      },
      expected: { S_token: 's3cret', POD_IP: '127.1.0.5' },
    },
    {
      name: '$(VAR) references to earlier variables, $$ escapes',
      container: { env: [{ name: 'HOST', value: 'db' }, { name: 'URL', value: 'postgres://$(HOST):5432/$(UNKNOWN)' }, { name: 'LITERAL', value: '$$(HOST)' }] },
      expected: { HOST: 'db', URL: 'postgres://db:5432/$(UNKNOWN)', LITERAL: '$(HOST)', POD_IP: '127.1.0.5' },
    },
  ];
  it.each(cases)('$name', async ({ container, expected }) => {
    const env = await buildContainerEnv({ name: 'app', ...container }, context(objects()));
    expect(Object.fromEntries(env.map((variable) => [variable.name, variable.value]))).toEqual(expected);
  });

  const failures: { name: string; container: Partial<Container>; message: string }[] = [
    { name: 'missing config map', container: { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] }, message: 'configmap "nope" not found' },
    { name: 'missing secret key', container: { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'other' } } }] }, message: "couldn't find key other in Secret shop/creds" },
    { name: 'missing envFrom secret', container: { envFrom: [{ secretRef: { name: 'nope' } }] }, message: 'secret "nope" not found' },
    { name: 'unknown field path', container: { env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }] }, message: 'unsupported fieldPath "spec.bogus" in env X of pod shop/web-1' },
  ];
  it.each(failures)('rejects $name with CreateContainerConfigError', async ({ container, message }) => {
    const result = buildContainerEnv({ name: 'app', ...container }, context(objects()));
    await expect(result).rejects.toThrow(ContainerConfigError);
    await expect(result).rejects.toThrow(message);
  });
});

describe('envFrom keys that are no variable names', () => {
  it('skips them and reports InvalidEnvironmentVariableNames once per source, as upstream', async () => {
    const source = objects();
    source.configMaps.set('shop/odd', { data: { GOOD: '1', 'a=b': '2', '': '3' } });
    const warnings: { reason: string; message: string }[] = [];
    const env = await buildContainerEnv({ name: 'app', envFrom: [{ configMapRef: { name: 'odd' } }] }, { ...context(source), warn: (reason, message) => warnings.push({ reason, message }) });
    expect(Object.fromEntries(env.map((variable) => [variable.name, variable.value]))).toEqual({ GOOD: '1', POD_IP: '127.1.0.5' });
    expect(warnings).toEqual([{ reason: 'InvalidEnvironmentVariableNames', message: 'Keys [, a=b] from the EnvFrom configMap shop/odd were skipped since they are considered invalid environment variable names.' }]);
  });

  it.each([
    ['MY_VAR', true],
    ['my.dotted-name', true],
    ['1starts-with-digit', true],
    ['a=b', false],
    ['', false],
    ['tab\there', false],
    ['ünïcode', false],
  ] as const)('isValidEnvName(%j) = %s', (name, valid) => {
    expect(isValidEnvName(name)).toBe(valid);
  });
});

describe('secret values', () => {
  it('are reported to the caller, config map values are not', async () => {
    const secretValues = new Set<string>();
    await buildContainerEnv(
      { name: 'app', envFrom: [{ configMapRef: { name: 'settings' } }], env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } }] },
      { ...context(objects()), secretValues },
    );
    expect([...secretValues]).toEqual(['s3cret']);
  });
});

describe('expandReferences', () => {
  it.each([
    ['$(A)-$(B)', 'x-$(B)'],
    ['$$(A)', '$(A)'],
    ['no refs', 'no refs'],
    ['$(A', '$(A'],
  ])('%s -> %s', (input, output) => {
    expect(expandReferences(input, new Map([['A', 'x']]))).toBe(output);
  });
});
