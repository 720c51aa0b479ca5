// SIP.js ships ESM only, so the whole suite runs as native ESM
// (node --experimental-vm-modules) and SWC strips the TypeScript without changing the module format.
const swc = [
  '@swc/jest',
  {
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  },
];

const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  // TypeScript sources import siblings as './x.js' (NodeNext); map them back to the .ts files.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    // Workspace packages are tested from their sources, so a test run needs no build first.
    '^@ringway/sdp$': '<rootDir>/packages/sdp/src/index.ts',
    '^@ringway/softphone$': '<rootDir>/packages/softphone/src/index.ts',
  },
  testEnvironment: 'node',
  // Tests that start servers wait for conditions; on a busy CI machine (load average 10 and more
  // was seen) jest's 5 s default cuts some short that would pass. Longer tests set their own.
  testTimeout: 30_000,
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/packages/*/test/**/*.test.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testPathIgnorePatterns: ['<rootDir>/test/stack/'],
    },
    // The compose stack on a Docker engine (npm run test:stack): not inside npm test's loopback namespace.
    { ...common, displayName: 'stack', testMatch: ['<rootDir>/test/stack/**/*.test.ts'] },
  ],
};
