// docs/adding-a-server.md quotes a whole example server (docs/example/notes-mcp.ts): the quote must be the file,
// and the file must type-check against core's API, so the guide cannot drift from the code.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const example = join(root, 'docs', 'example');

describe('the worked example in docs/adding-a-server.md', () => {
  it('is quoted in the guide exactly as the file holds it', () => {
    const guide = readFileSync(join(root, 'docs', 'adding-a-server.md'), 'utf8');
    const quoted = /```ts\n\/\/ The worked example[\s\S]*?```/.exec(guide)?.[0];
    expect(quoted, 'the guide quotes docs/example/notes-mcp.ts in a ```ts block').toBeDefined();
    expect(quoted!.slice('```ts\n'.length, -'```'.length)).toBe(
      readFileSync(join(example, 'notes-mcp.ts'), 'utf8'),
    );
  });

  it("type-checks against core's API", () => {
    const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    // Throws with tsc's diagnostics when it does not compile.
    execFileSync(process.execPath, [tsc, '-p', join(example, 'tsconfig.json')], { encoding: 'utf8' });
  }, 120_000);
});
