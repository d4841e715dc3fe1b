/**
 * `npm run schema`: regenerates what the stack schema (infra/config/stack-schema.ts) generates:
 * the editors' JSON Schema (stacks/onnx-fleet.schema.json) and the README's configuration
 * reference. `--check` changes nothing and exits 1 when either is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderStackFileSchema, SCHEMA_FILE } from '../infra/config/json-schema';
import { spliceReference } from '../infra/config/reference';
import { projectRoot } from '../infra/program';

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const root = projectRoot();
  const targets = [
    { file: path.join(root, SCHEMA_FILE), next: () => renderStackFileSchema() },
    { file: path.join(root, 'README.md'), next: () => spliceReference(fs.readFileSync(path.join(root, 'README.md'), 'utf8')) },
  ];
  const stale: string[] = [];
  for (const { file, next } of targets) {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const wanted = next();
    if (current === wanted) continue;
    stale.push(path.relative(root, file));
    if (!check) fs.writeFileSync(file, wanted);
  }
  if (check && stale.length) {
    process.stderr.write(`stale (run \`npm run schema\`): ${stale.join(', ')}\n`);
    return 1;
  }
  process.stdout.write(stale.length ? `wrote ${stale.join(', ')}\n` : 'up to date\n');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
