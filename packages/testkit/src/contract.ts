import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a `tools/list` entry that form a server's contract with hosts and prompts. */
export interface ListedTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: unknown;
  outputSchema?: unknown;
  annotations?: Record<string, unknown>;
}

const updating = () => process.env.UPDATE_CONTRACTS === '1';

/**
 * Pin every tool's schema in `<dir>/<tool>.json` (like GitHub's `__toolsnaps__`): a renamed parameter or a
 * changed annotation fails the test until the snapshot is updated on purpose with `UPDATE_CONTRACTS=1`.
 * Returns the list of differences (empty when all match).
 */
export function compareToolSnapshots(tools: ListedTool[], dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const problems: string[] = [];
  const expectedFiles = new Set(tools.map((t) => `${t.name}.json`));
  for (const tool of tools) {
    const path = join(dir, `${tool.name}.json`);
    const actual = `${JSON.stringify(tool, null, 2)}\n`;
    let stored: string | undefined;
    try {
      stored = readFileSync(path, 'utf8');
    } catch {
      stored = undefined;
    }
    if (stored === actual) continue;
    if (updating() || (stored === undefined && !process.env.CI)) writeFileSync(path, actual);
    else
      problems.push(
        stored === undefined
          ? `${tool.name}: no snapshot (run with UPDATE_CONTRACTS=1)`
          : `${tool.name}: schema changed (run with UPDATE_CONTRACTS=1 if intended)`,
      );
  }
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && !expectedFiles.has(f))) {
    if (updating()) rmSync(join(dir, file));
    else problems.push(`${file}: snapshot of a tool that no longer exists`);
  }
  return problems;
}

/** The markdown tool table of a README, generated from `tools/list`. */
export function renderToolTable(
  tools: ListedTool[],
  toolsetOf: (name: string) => string | undefined = () => undefined,
): string {
  const rows = tools.map((t) => {
    const a = t.annotations ?? {};
    const kind = a.readOnlyHint ? 'read' : a.destructiveHint === false ? 'write' : 'write, destructive';
    const summary = (t.description ?? '').split(/(?<=\.)\s/)[0]!.replace(/\|/g, '\\|');
    const set = toolsetOf(t.name);
    return `| \`${t.name}\` | ${set ? `${set} | ` : ''}${kind} | ${summary} |`;
  });
  const withSets = tools.some((t) => toolsetOf(t.name));
  const head = withSets
    ? '| tool | toolset | kind | what it does |\n|---|---|---|---|'
    : '| tool | kind | what it does |\n|---|---|---|';
  return `${head}\n${rows.join('\n')}`;
}

const START =
  '<!-- tools:start (generated from tools/list by the contract test; UPDATE_CONTRACTS=1 rewrites it) -->';
const END = '<!-- tools:end -->';

/**
 * Check (or with `UPDATE_CONTRACTS=1`, rewrite) the tool table between the markers in a README.
 * Returns a problem description, or undefined when the README is in step with the code.
 */
export function checkReadmeToolTable(readmePath: string, table: string): string | undefined {
  const readme = readFileSync(readmePath, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  const block = `${START}\n${table}\n${END}`;
  if (start === -1 || end === -1) return `${readmePath} has no tool table markers:\n${START}\n${END}`;
  const current = readme.slice(start, end + END.length);
  if (current === block) return undefined;
  if (updating()) {
    writeFileSync(readmePath, readme.slice(0, start) + block + readme.slice(end + END.length));
    return undefined;
  }
  return `${readmePath}: the tool table is out of date (run the tests with UPDATE_CONTRACTS=1)`;
}
