// Drives the real yaml-language-server (what VS Code's YAML extension runs) for the editor tests:
// an ES module, so it runs in its own node process (jest's module system cannot load it).
// stdin: {"schemaUri", "schemaText"?, "ops": [{"op": "problems"|"complete"|"hover", "uri", "text", "line"?, "character"?}]}
// stdout: {"results": [...], "errors": [...]} — errors are the failures the service reports only through telemetry.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { getLanguageService } from 'yaml-language-server';

const request = JSON.parse(fs.readFileSync(0, 'utf8'));
const errors = [];
const service = getLanguageService({
  schemaRequestService: async (uri) => (uri === request.schemaUri && request.schemaText ? request.schemaText : fs.readFileSync(fileURLToPath(uri), 'utf8')),
  workspaceContext: { resolveRelativePath: (relative, resource) => new URL(relative, resource).href },
  telemetry: { send() {}, sendError: (name, err) => errors.push(`${name}: ${err?.stack ?? err}`), sendTrack() {} },
});
service.configure({ validate: true, completion: true, hover: true, schemas: [] });

let version = 0; // the service caches parsed documents by uri and version
const results = [];
for (const { op, uri, text, line, character } of request.ops) {
  const doc = TextDocument.create(uri, 'yaml', ++version, text);
  if (op === 'problems') results.push((await service.doValidation(doc, false)).map((d) => ({ line: d.range.start.line, message: d.message })));
  else if (op === 'complete') results.push((await service.doComplete(doc, { line, character }, false)).items.map((i) => i.label));
  else if (op === 'hover') {
    const h = await service.doHover(doc, { line, character });
    results.push(h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '');
  } else throw new Error(`unknown op ${op}`);
}
process.stdout.write(JSON.stringify({ results, errors }));
