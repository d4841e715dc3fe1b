import fs from 'node:fs';
import path from 'node:path';
import { stackNames } from './graph';

test('every stack file in stacks/ has a graph test', () => {
  for (const stack of stackNames()) expect(fs.existsSync(path.join(__dirname, `stack-${stack}.test.ts`))).toBe(true);
  expect(stackNames()).toEqual(expect.arrayContaining(['dev', 'staging', 'prod-us-east-1', 'prod-eu-west-1', 'dev-k8s', 'prod-k8s']));
});
