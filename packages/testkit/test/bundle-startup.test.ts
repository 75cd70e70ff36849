// What scripts/bundle.mjs moves out of a server's start (see docs/architecture.md, "Start-up"): the SDK's Ajv
// validator lives in dist/chunks/json-schema-validator.cjs, read on first use, and still validates there; the
// tools/list entries are data in dist/tools-list.json. Read from the built files: run `npm run build` first.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serverPackages } from '@switchyard/testkit';

const servers = serverPackages().map((p) => [p.name, p.dir] as const);
const CHUNK = 'json-schema-validator.cjs';

/** Every bundled file of a server that could hold the validator's stand-in: main.js and its chunks. */
function bundleFiles(dir: string): string[] {
  const chunks = join(dir, 'dist', 'chunks');
  return [
    join(dir, 'dist', 'main.js'),
    ...readdirSync(chunks)
      .filter((f) => f.endsWith('.js'))
      .map((f) => join(chunks, f)),
  ];
}

describe.each(servers)('%s bundle', (_name, dir) => {
  it('starts without Ajv: only its stand-in is in the files a start reads', () => {
    const main = readFileSync(join(dir, 'dist', 'main.js'), 'utf8');
    expect(main).not.toContain('ajv-formats');
    const holders = bundleFiles(dir).filter((f) => readFileSync(f, 'utf8').includes(CHUNK));
    expect(holders.length).toBeGreaterThan(0);
    for (const holder of holders) {
      // The stand-in's rule: the validator is beside it in dist/chunks/, or in dist/chunks/ below main.js.
      const here = dirname(holder);
      expect(existsSync(join(/[\\/]chunks$/.test(here) ? here : join(here, 'chunks'), CHUNK))).toBe(true);
    }
  });

  it('validates with the real Ajv on first use, string formats included', () => {
    const { DefaultJsonSchemaValidator } = createRequire(import.meta.url)(
      join(dir, 'dist', 'chunks', CHUNK),
    ) as {
      DefaultJsonSchemaValidator: new () => {
        getValidator(schema: object): (v: unknown) => { valid: boolean; errorMessage?: string };
      };
    };
    const check = new DefaultJsonSchemaValidator().getValidator({
      type: 'object',
      properties: { to: { type: 'string', format: 'email' } },
      required: ['to'],
    });
    expect(check({ to: 'ana@example.com' }).valid).toBe(true);
    expect(check({ to: 'not an address' })).toMatchObject({
      valid: false,
      errorMessage: expect.stringContaining('email'),
    });
    expect(check({}).valid).toBe(false);
  });

  it('holds tools/list entries keyed by their tool names', () => {
    const catalog = JSON.parse(readFileSync(join(dir, 'dist', 'tools-list.json'), 'utf8')) as Record<
      string,
      { name: string; inputSchema: { type: string } }
    >;
    const names = Object.keys(catalog);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(catalog[name]).toMatchObject({ name, inputSchema: { type: 'object' } });
  });
});
