// Two projects: `unit` (fast, loopback only) and `e2e` (a real API server; see test/e2e/global-setup.ts).
// The code is ESM, so jest runs with --experimental-vm-modules (see package.json scripts).
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import siblings as './x.js' (Node ESM); jest resolves them to the .ts files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // Type checking is `tsc --noEmit` (make typecheck); jest only strips types.
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      globalSetup: '<rootDir>/test/e2e/global-setup.ts',
      globalTeardown: '<rootDir>/test/e2e/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/e2e/setup-timeout.ts'],
    },
  ],
};
