import { describe, expect, it } from 'vitest';
import { commandHint, startedThroughNpx } from '../src/command-hint.js';

// Where a bin lies, by how it was installed, and how a hint must spell `<bin> login` for it.
const cases: Array<[how: string, script: string, hint: string]> = [
  [
    'npx on Linux/macOS (npm 7+ keeps it in <cache>/_npx/<hash>)',
    '/home/ann/.npm/_npx/7ce0d34118ea17a2/node_modules/.bin/powerbi-mcp',
    'npx -y @switchyard/powerbi-mcp login --profile work',
  ],
  [
    'npx, the bin resolved to the package file',
    '/Users/ann/.npm/_npx/7ce0d34118ea17a2/node_modules/@switchyard/powerbi-mcp/dist/bin.js',
    'npx -y @switchyard/powerbi-mcp login --profile work',
  ],
  [
    'npx on Windows',
    'C:\\Users\\ann\\AppData\\Local\\npm-cache\\_npx\\7ce0d34118ea17a2\\node_modules\\@switchyard\\powerbi-mcp\\dist\\bin.js',
    'npx -y @switchyard/powerbi-mcp login --profile work',
  ],
  ['npm install -g', '/usr/local/bin/powerbi-mcp', 'powerbi-mcp login --profile work'],
  [
    'npm install -g, the package file',
    '/usr/local/lib/node_modules/@switchyard/powerbi-mcp/dist/bin.js',
    'powerbi-mcp login --profile work',
  ],
  [
    'a folder named like npx but not it',
    '/home/ann/my_npx_tools/node_modules/.bin/powerbi-mcp',
    'powerbi-mcp login --profile work',
  ],
  [
    'a clone, run with node',
    '/work/switchyard/packages/powerbi-mcp/dist/bin.js',
    'powerbi-mcp login --profile work',
  ],
];

describe('commandHint', () => {
  it.each(cases)('%s', (_how, script, hint) => {
    expect(commandHint('powerbi-mcp login --profile work', script)).toBe(hint);
    expect(startedThroughNpx(script)).toBe(hint.startsWith('npx '));
  });

  it("reads this process's own bin path when none is given", () => {
    expect(startedThroughNpx()).toBe(startedThroughNpx(process.argv[1]));
  });
});
