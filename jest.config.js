/** Tests run TypeScript through SWC; worker threads and child processes use the tsc build in dist/ (npm test builds first). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  testTimeout: 60000,
  // One suite at a time: the fleet, drain and saturation suites measure behaviour under load on a
  // 2-core machine, and suites running beside them would change what they measure.
  maxWorkers: 1,
  // The Pulumi SDK keeps its in-process mock monitor alive after the graph tests; do not hang CI on it.
  forceExit: true,
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
