/**
 * Jest, in projects by cost: `unit` (no network, no bundling, no synth: `npm run test:unit`),
 * `synth` (the CDKTF stacks over one shared bundling pass), `integration` (the real local
 * services, started once on free ports) and `e2e` (`npm start`, the soak: processes of their own).
 * `npm test` runs them all.
 */

// The lockfile pins SDK versions that support Node 20; silence the SDK's notice about later ones.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// The functions' business metrics (embedded metric format lines) would fill the test output; a test of them turns them on.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const common = {
  transform: { '^.+\\.(ts|js)$': '<rootDir>/test/support/esbuild-transform.cjs' },
  // ESM-only dependencies are turned into CommonJS like our own sources.
  transformIgnorePatterns: ['/node_modules/(?!(p-limit|yocto-queue)/)'],
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  testEnvironment: 'node',
  setupFilesAfterEnv: ['<rootDir>/test/support/cheap-stack-captures.ts'],
};

module.exports = {
  // Integration tests talk to real services on a 2-core machine.
  testTimeout: 120000,
  // Jest's default is one worker fewer than the cores: one worker on this 2-core class of
  // machine. The tests wait on services more than they compute, so both cores are used.
  maxWorkers: 2,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'synth',
      testMatch: ['<rootDir>/test/synth/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/synth-setup.ts',
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
