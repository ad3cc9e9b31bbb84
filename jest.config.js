// Tests run from the TypeScript sources through swc (type-stripping only, so a
// half-finished file elsewhere never blocks a test); `npm test` type-checks the
// whole workspace with `tsc -b` first.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages'],
  testMatch: ['**/src/**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleNameMapper: { '^@kube-lite/([a-z-]+)$': '<rootDir>/packages/$1/src/index.ts' },
  testTimeout: 30000,
};
