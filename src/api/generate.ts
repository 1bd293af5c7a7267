/**
 * Turns the paved.dev CRDs into TypeScript declarations (one file per kind). Deterministic: the same
 * CRDs always give the same text, which is what the drift test compares.
 */
import { join } from 'node:path';
import { compile, type JSONSchema } from 'json-schema-to-typescript';
import { parse } from 'yaml';

interface CrdDocument {
  kind: string;
  spec: {
    group: string;
    names: { kind: string };
    versions: Array<{ name: string; schema?: { openAPIV3Schema?: JSONSchema } }>;
  };
}

/** Strips Kubernetes-only keywords that json-schema-to-typescript does not understand. */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key.startsWith('x-kubernetes-')) {
      if (key === 'x-kubernetes-int-or-string' && value === true) out['tsType'] = 'number | string';
      if (key === 'x-kubernetes-preserve-unknown-fields' && value === true) {
        out['additionalProperties'] = true;
      }
      continue;
    }
    out[key] = toJsonSchema(value);
  }
  if (out['type'] === 'object' && !('additionalProperties' in out) && out['properties']) {
    out['additionalProperties'] = false;
  }
  return out;
}

/**
 * The CRD schema says only `metadata: {type: object}` (the API server owns its shape); type it as
 * client-node's V1ObjectMeta so generated kinds are usable with the typed APIs.
 */
function withObjectMeta(schema: JSONSchema): JSONSchema {
  const properties = { ...(schema.properties ?? {}) };
  properties['metadata'] = { tsType: 'V1ObjectMeta' };
  return { ...schema, properties };
}

/** Returns `[fileName, text]` for every paved.dev CRD in `dir`. */
export async function renderGeneratedTypes(
  dir: string,
  readdir: (p: string) => Promise<string[]>,
  readFile: (p: string) => Promise<string>,
): Promise<Array<[string, string]>> {
  const names = (await readdir(dir)).filter((n) => n.startsWith('paved.dev_') && n.endsWith('.yaml')).sort();
  const out: Array<[string, string]> = [];
  for (const name of names) {
    const crd = parse(await readFile(join(dir, name))) as CrdDocument;
    const kind = crd.spec.names.kind;
    const version = crd.spec.versions[0];
    const schema = version?.schema?.openAPIV3Schema;
    if (!schema) throw new Error(`${name}: spec.versions[0].schema.openAPIV3Schema is missing`);
    const jsonSchema = withObjectMeta({ ...(toJsonSchema(schema) as JSONSchema), title: kind, additionalProperties: false });
    const ts = await compile(jsonSchema, kind, {
      bannerComment: [
        `/* Generated from crds/${name} by \`npm run gen:types\`. Do not edit. */`,
        `import type { V1ObjectMeta } from '@kubernetes/client-node';`,
      ].join('\n'),
      additionalProperties: false,
      // Bounded arrays stay plain arrays: the API server enforces maxItems, a tuple union helps no one.
      maxItems: -1,
      strictIndexSignatures: true,
      format: true,
      style: { singleQuote: true, printWidth: 110, bracketSpacing: true, trailingComma: 'all' },
    });
    out.push([`${kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}.ts`, ts]);
  }
  return out;
}
