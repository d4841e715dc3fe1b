/**
 * The JSON Schema of a stack file (stacks/Pulumi.<stack>.yaml), generated from the stack schema
 * for editors: VS Code's YAML extension (yaml-language-server) completes and checks the files
 * through the modeline at their top. Pulumi's stack settings file: `config:` maps
 * `<namespace>:<key>` to a value, which may be `{secure: <ciphertext>}` anywhere; other
 * namespaces (`aws:`, `pulumi:`) pass through. Cross-key checks stay with parseStackConfig.
 */
import { fieldSchema, JsonSchema, SECURE_DEFINITION } from './kit';
import { NAMESPACE, STACK_FIELDS } from './stack-schema';

/** Where the schema is checked in, and what every stack file's first line says to use it. */
export const SCHEMA_FILE = 'stacks/onnx-fleet.schema.json';
export const MODELINE = '# yaml-language-server: $schema=./onnx-fleet.schema.json';

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function stackFileSchema(): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const platformRules: JsonSchema[] = [];
  const required: string[] = [];
  const platformKey = `${NAMESPACE}:platform`;
  const platformDefault = STACK_FIELDS.platform.default?.json;
  for (const [name, field] of Object.entries(STACK_FIELDS)) {
    const configKey = field.options.configKey ?? `${NAMESPACE}:${name}`;
    properties[configKey] = fieldSchema(field, true);
    const { platform } = field.options;
    if (platform !== undefined) {
      // Required on its platform, refused elsewhere (an absent platform key is the default's).
      const selected: JsonSchema = { properties: { [platformKey]: { const: platform } }, ...(platform === platformDefault ? {} : { required: [platformKey] }) };
      platformRules.push({ if: selected, then: { required: [configKey] }, else: { not: { required: [configKey] } } });
    } else if (field.options.required && !field.default) required.push(configKey);
  }
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'onnx-fleet stack settings (Pulumi.<stack>.yaml)',
    description: 'Generated from infra/config/stack-schema.ts by `npm run schema`; do not edit by hand.',
    type: 'object',
    properties: {
      secretsprovider: { type: 'string', description: 'The secrets provider used for encrypting sensitive configuration values.' },
      encryptedkey: { type: 'string', description: 'The KMS-encrypted ciphertext for the data key used for secrets encryption (cloud secrets providers).' },
      encryptionsalt: { type: 'string', description: "The stack's base64 encoded encryption salt (passphrase secrets provider)." },
      environment: {
        description: 'Pulumi ESC environment(s) imported into the stack configuration.',
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }, { type: 'object' }],
      },
      config: {
        type: 'object',
        description: `Stack configuration: \`${NAMESPACE}:<key>\` for this project, other namespaces for providers (\`aws:region\`).`,
        properties,
        // Keys of this namespace must be known ones; other namespaces belong to providers.
        propertyNames: { anyOf: [{ enum: Object.keys(properties) }, { not: { pattern: `^${escapeRegExp(NAMESPACE)}:` } }] },
        additionalProperties: true,
        required,
        allOf: platformRules,
      },
    },
    additionalProperties: false,
    definitions: { secure: SECURE_DEFINITION },
  };
}

/** The checked-in file's exact text. */
export function renderStackFileSchema(): string {
  return `${JSON.stringify(stackFileSchema(), null, 2)}\n`;
}
