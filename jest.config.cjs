/** Jest: one project for unit tests (no network) and one for integration tests (real local services). */
const common = {
  transform: { '^.+\\.ts$': '<rootDir>/test/support/esbuild-transform.cjs' },
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  testEnvironment: 'node',
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      testTimeout: 60000,
    },
  ],
};
