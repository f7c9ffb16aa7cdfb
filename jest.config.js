// Three tiers, one run: `npm test` runs all of them; `--selectProjects unit` picks one.
// ts-jest in transpile-only mode: the type check is `npm run typecheck`, so tests only need the emit
// (with decorator metadata for Nest's DI). No native binaries: `npm ci` must work on every platform.
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json', diagnostics: false }];
const moduleNameMapper = {
  '^@presence-sync/([a-z][a-z-]*)$': '<rootDir>/libs/$1/src/index.ts',
};
const common = { rootDir: __dirname, transform: { '^.+\\.ts$': tsJest }, moduleNameMapper, testEnvironment: 'node' };

module.exports = {
  // Integration and e2e tests boot daemons and emulators; they wait for conditions, never for fixed times.
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts', '<rootDir>/apps/omni-relay/**/*.spec.js'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
};
