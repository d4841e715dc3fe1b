/** Tests run TypeScript through SWC; worker threads and child processes use the tsc build in dist/ (npm test builds first). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }] },
  testTimeout: 60000,
  // Fleet, soak and bench suites have their own commands.
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
