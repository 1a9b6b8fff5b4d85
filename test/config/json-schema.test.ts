import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { glob } from 'tinyglobby';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { SCHEMA_FILE } from '../../src/config/json-schema.js';
import { loadConfig } from '../../src/config/resolve.js';
import { packageInfo } from '../../src/core/package.js';
import { schemaReference } from '../../src/ops/init/schema-ref.js';

const ROOT = path.resolve(__dirname, '../..');
const SHIPPED = path.join(ROOT, SCHEMA_FILE);

/** The shipped schema compiled by ajv in strict mode (an unknown keyword in it is an error). */
function validator() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  return ajv.compile(JSON.parse(fs.readFileSync(SHIPPED, 'utf8')));
}

describe(`the JSON Schema of tributary.yaml (${SCHEMA_FILE})`, () => {
  // That it is the one generated from the config schema: test/cli/reference.test.ts.
  it('is in the package (`files` of package.json), as `npm pack` would put it', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
    });
    const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
    expect(pack?.files.map((f) => f.path)).toContain(SCHEMA_FILE);
  });

  it('accepts every example config and the README one, which the loader accepts too', async () => {
    const validate = validator();
    const examples = await glob('examples/**/tributary*.yaml', { cwd: ROOT });
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const file of examples) {
      const abs = path.join(ROOT, file);
      expect(() => loadConfig(abs), file).not.toThrow();
      const text = fs.readFileSync(abs, 'utf8');
      // Each points editors to the schema, as `init` would from there.
      const first = text.split('\n')[0] ?? '';
      expect(first, file).toBe(`# yaml-language-server: $schema=${schemaReference(abs, packageInfo())}`);
      expect(path.resolve(path.dirname(abs), first.split('$schema=')[1] ?? ''), file).toBe(SHIPPED);
      const ok = validate(YAML.parse(text));
      expect(validate.errors ?? [], file).toEqual([]);
      expect(ok, file).toBe(true);
    }
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = readme.split('## Configuration')[1]?.split('```yaml\n')[1]?.split('```')[0] ?? '';
    expect(block).toContain('sources:');
    expect(validate(YAML.parse(block)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('rejects a misspelt key, at the top and in a source, and a value not in the list', () => {
    const validate = validator();
    const good = YAML.parse(fs.readFileSync(path.join(ROOT, 'examples/markets/tributary.yaml'), 'utf8'));
    const misspelt = structuredClone(good);
    misspelt.sources[1].primry_key = misspelt.sources[1].primary_key;
    delete misspelt.sources[1].primary_key;
    expect(validate(misspelt)).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({
        instancePath: '/sources/1',
        keyword: 'additionalProperties',
        params: { additionalProperty: 'primry_key' },
      }),
    );
    const { pipeline, ...rest } = good;
    expect(validate({ ...rest, pipline: pipeline })).toBe(false);
    expect(validate.errors?.map((e) => [e.keyword, e.params])).toEqual(
      expect.arrayContaining([
        ['required', { missingProperty: 'pipeline' }],
        ['additionalProperties', { additionalProperty: 'pipline' }],
      ]),
    );
    const upsert = structuredClone(good);
    upsert.sources[0].write = 'upsert';
    expect(validate(upsert)).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({ instancePath: '/sources/0/write', keyword: 'enum' }),
    );
  });

  it('describes each key as docs/configuration.md does', () => {
    const schema = JSON.parse(fs.readFileSync(SHIPPED, 'utf8'));
    const doc = fs.readFileSync(path.join(ROOT, 'docs/configuration.md'), 'utf8');
    const cursor = schema.properties.sources.items.properties.cursor.description as string;
    expect(cursor).toMatch(/^Column whose greatest value wins on merge/);
    expect(doc).toContain(`| \`sources[].cursor\` | string | no | ${cursor} |`);
  });
});

describe('the $schema reference `tributary init` writes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'trib-schema-ref-')));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const install = (project: string, name: string) => {
    const file = path.join(project, 'node_modules', name, SCHEMA_FILE);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{}');
    return file;
  };

  it('points into the node_modules of the project that installed the package, from the config folder', () => {
    const pkg = { name: '@acme/tributary', version: '1.2.3', root: path.join(dir, 'elsewhere') };
    install(dir, pkg.name);
    expect(schemaReference(path.join(dir, 'tributary.yaml'), pkg)).toBe(
      `./node_modules/@acme/tributary/${SCHEMA_FILE}`,
    );
    const nested = path.join(dir, 'pipelines/shop/tributary.yaml');
    const ref = schemaReference(nested, pkg);
    expect(ref).toBe(`../../node_modules/@acme/tributary/${SCHEMA_FILE}`);
    expect(fs.existsSync(path.resolve(path.dirname(nested), ref))).toBe(true);
  });

  it('points to the published copy of the running version when the package is not in the project', () => {
    // A global install: the package lives under a prefix's lib/node_modules.
    const pkg = { name: 'tributary-etl', version: '0.4.0', root: path.join(dir, 'lib/node_modules/x') };
    expect(schemaReference(path.join(dir, 'project/tributary.yaml'), pkg)).toBe(
      `https://cdn.jsdelivr.net/npm/tributary-etl@0.4.0/${SCHEMA_FILE}`,
    );
  });

  it('points to the schema of the repository for a config inside its checkout', () => {
    const config = path.join(ROOT, 'examples/markets/tributary.yaml');
    const ref = schemaReference(config, packageInfo());
    expect(ref).toBe(`../../${SCHEMA_FILE}`);
    expect(path.resolve(path.dirname(config), ref)).toBe(SHIPPED);
  });
});
