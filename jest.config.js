// Four suites: unit (pure code), integration (handlers against DynamoDB
// Local through the real SDK), cdk (synthesised templates) and deployed (the
// prod stage's bundles and template, run as deployed on DynamoDB Local and
// loopback stand-ins).
const shared = {
  testEnvironment: 'node',
  // swc strips types fast; `npm run typecheck` does the type checking.
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // middy and jose ship ESM only: let swc turn them into CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|jose)/)'],
  moduleNameMapper: { '^@middy/(core|http-json-body-parser|http-urlencode-body-parser|util)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  setupFiles: ['<rootDir>/test/support/env.ts'],
};

/** @type {import('jest').Config} */
module.exports = {
  // Real DynamoDB Local round trips on a busy 2-core machine: generous, and never a timing assertion.
  testTimeout: 60_000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'integration',
      // test/multi-region: the MRSC simulation, on the same DynamoDB Local.
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/test/multi-region/**/*.test.ts'],
      setupFiles: [...shared.setupFiles, '<rootDir>/test/support/log-capture.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/log-hygiene.ts'],
      globalSetup: '<rootDir>/test/support/dynamodb-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/dynamodb-global-teardown.ts',
    },
    { ...shared, displayName: 'cdk', testMatch: ['<rootDir>/test/cdk/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'deployed',
      testMatch: ['<rootDir>/test/deployed/**/*.test.ts'],
      // The same DynamoDB Local as the integration project (jest starts one for both).
      globalSetup: '<rootDir>/test/support/dynamodb-global-setup.ts',
      globalTeardown: '<rootDir>/test/support/dynamodb-global-teardown.ts',
    },
  ],
};
