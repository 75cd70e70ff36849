#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { describeFailure, isSwitchyardError, packageVersion } from '@switchyard/core';
import { runDemo } from './demo.js';

const HELP = `Usage: lakehouse-demo [--keep]

Runs the whole lakehouse-mcp flow against a throw-away PostgreSQL: starts the lakehouse-mcp server over MCP,
syncs a table, uploads a CSV, builds silver and gold, queries (no account needed).

Options:
  --keep     keep the demo lakehouse folder and print its path
  --version  print the version
  --help     print this help`;

let code: number;
try {
  const { values } = parseArgs({
    options: { keep: { type: 'boolean' }, version: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  if (values.help) process.stdout.write(`${HELP}\n`);
  else if (values.version) process.stdout.write(`${packageVersion(import.meta.url)}\n`);
  code = values.help || values.version ? 0 : await runDemo({ keep: values.keep ?? false, print });
} catch (err) {
  const usage = err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS');
  process.stderr.write(`lakehouse-demo: ${usage ? `${err.message}\n\n${HELP}` : describeFailure(err)}\n`);
  code = usage || (isSwitchyardError(err) && err.kind === 'user_input') ? 2 : 1;
}
process.exitCode = code;
// Give stdout a moment to flush, then leave even if a library holds a handle open.
setTimeout(() => process.exit(code), 200).unref();

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
