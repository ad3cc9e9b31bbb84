// The end-to-end suite: the compose cluster (deploy/) started by
// testcontainers, driven with kubectl and the Docker API. `npm run test:e2e`
// after `npm run images`. One suite, run serially: it owns a whole cluster.
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '..',
  testEnvironment: 'node',
  roots: ['<rootDir>/e2e'],
  testMatch: ['**/*.e2e.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleNameMapper: { '^@kube-lite/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts' },
  maxWorkers: 1,
  // Each step bounds its own waits; this only catches a hang.
  testTimeout: 300_000,
  verbose: true,
};
