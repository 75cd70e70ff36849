import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectStdio, resultText, type CallToolResult, type StdioConnection } from '@switchyard/core/client';
import { serverPackages } from './servers.js';

/**
 * One folder for every temporary folder of a run (a test run's global setup, a bench script), removed by the
 * function returned. It becomes TMPDIR too, so whatever the run and the processes it spawns put in the OS temp
 * folder (servers, npm, PostgreSQL, DuckDB) lands there and goes with it. Others may pass through it (not list
 * it): PostgreSQL runs as the "postgres" user when the run is root.
 */
export function useTempRoot(prefix = 'switchyard-run-'): () => void {
  const root = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(root, 0o711);
  process.env.SWITCHYARD_TEST_TMP = root;
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}

function testTmp(): string {
  return process.env.SWITCHYARD_TEST_TMP ?? tmpdir();
}

/** A fresh temporary folder, removed by `cleanup`. */
export function tempDir(prefix = 'switchyard-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(testTmp(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** The folders of one user's machine: a server's config and data folders, and any named others (a home, an allowed root). */
export type ServerFolders<F extends string = never> = { configDir: string; dataDir: string } & Record<
  F,
  string
> & {
    cleanup(): void;
  };

/** Fresh folders for one machine (`configDir`, `dataDir` and one per name), removed together by `cleanup`. */
export function serverFolders<F extends string = never>(
  names: readonly F[] = [],
  prefix = 'switchyard-',
): ServerFolders<F> {
  const made = [tempDir(`${prefix}config-`), tempDir(`${prefix}data-`)];
  const named = Object.fromEntries(
    names.map((name) => {
      const dir = tempDir(`${prefix}${name}-`);
      made.push(dir);
      return [name, dir.path];
    }),
  ) as Record<F, string>;
  return {
    ...named,
    configDir: made[0]!.path,
    dataDir: made[1]!.path,
    cleanup: () => made.forEach((dir) => dir.cleanup()),
  };
}

export interface IsolatedEnvOptions {
  /** Extra variables for the server. */
  env?: Record<string, string | undefined>;
  /** Let the server use the real OS keychain (default: off, so tests never touch the developer's keychain). */
  keychain?: boolean;
  /** Reuse these folders (e.g. two processes sharing one config). */
  configDir?: string;
  dataDir?: string;
}

/**
 * The environment a server under test runs with: the test certificate trusted, its own config and data
 * folders, the keychain off unless asked for, and nothing inherited that names another server's upstream.
 */
export function isolatedEnv(options: IsolatedEnvOptions = {}): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^(POWERBI|MS365|ODOO|LAKEHOUSE|DATABRICKS|AZURE)_/.test(k)) continue;
    base[k] = v;
  }
  const env: Record<string, string> = {
    ...base,
    SWITCHYARD_CONFIG_DIR: options.configDir ?? mkdtempSync(join(testTmp(), 'switchyard-config-')),
    SWITCHYARD_DATA_DIR: options.dataDir ?? mkdtempSync(join(testTmp(), 'switchyard-data-')),
    SWITCHYARD_KEYCHAIN: options.keychain ? 'on' : 'off',
  };
  if (process.env.NODE_EXTRA_CA_CERTS) env.NODE_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface ToolCall {
  result: CallToolResult;
  text: string;
  isError: boolean;
  structured: Record<string, unknown> | undefined;
}

export interface SpawnedServer extends StdioConnection {
  env: Record<string, string>;
  call(
    name: string,
    args?: Record<string, unknown>,
    options?: {
      onProgress?: (p: { progress: number; total?: number; message?: string }) => void;
      signal?: AbortSignal;
      timeoutMs?: number;
    },
  ): Promise<ToolCall>;
}

/** Spawn a built server bin with node and connect the SDK client to it over stdio. */
export async function spawnServer(
  bin: string,
  options: IsolatedEnvOptions & {
    args?: string[];
    /** The server's working directory (some hosts start servers in `/`). */
    cwd?: string;
    sampling?: Parameters<typeof connectStdio>[0]['sampling'];
    elicit?: Parameters<typeof connectStdio>[0]['elicit'];
    /** The protocol era the client speaks (default `legacy`, what hosts send today). */
    era?: Parameters<typeof connectStdio>[0]['era'];
  } = {},
): Promise<SpawnedServer> {
  const env = isolatedEnv(options);
  const connection = await connectStdio({
    command: process.execPath,
    args: [bin, ...(options.args ?? [])],
    env,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.sampling ? { sampling: options.sampling } : {}),
    ...(options.era ? { era: options.era } : {}),
    ...(options.elicit ? { elicit: options.elicit } : {}),
  });
  return {
    ...connection,
    env,
    async call(name, args = {}, callOptions = {}) {
      const result = (await connection.client.callTool(
        { name, arguments: args },
        {
          ...(callOptions.onProgress ? { onprogress: callOptions.onProgress } : {}),
          ...(callOptions.signal ? { signal: callOptions.signal } : {}),
          timeout: callOptions.timeoutMs ?? 60_000,
        },
      )) as CallToolResult;
      return {
        result,
        text: resultText(result),
        isError: result.isError === true,
        structured: result.structuredContent as Record<string, unknown> | undefined,
      };
    },
  };
}

/** A server spoken to line by line, below any MCP client: for input a client library would never send. */
export interface RawServer {
  child: ChildProcessWithoutNullStreams;
  /** Write bytes to the server's stdin as they are (add the newline yourself). */
  write(data: string | Buffer): Promise<void>;
  /** The JSON messages the server wrote to stdout so far, in order. */
  messages(): Array<Record<string, unknown>>;
  /** The same, as the lines the server wrote (for byte-for-byte comparisons). */
  lines(): string[];
  /** Wait for the first message (of those received, or to come) that matches. */
  answer(
    match: (message: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stderr(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Close stdin and wait for the exit code (killed after `timeoutMs`). */
  close(timeoutMs?: number): Promise<number | null>;
}

/** A JSON-RPC `initialize` request line (protocol 2025-11-25) with id `id`. */
export function initializeLine(id: number | string = 0): string {
  return `${JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  })}\n`;
}

/** Spawn a built server bin with node and talk to it in raw stdio lines. */
export function spawnRaw(bin: string, options: IsolatedEnvOptions & { args?: string[] } = {}): RawServer {
  const child = spawn(process.execPath, [bin, ...(options.args ?? [])], {
    env: isolatedEnv(options),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const received: Array<Record<string, unknown>> = [];
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    let newline;
    while ((newline = out.indexOf('\n')) !== -1) {
      const line = out.slice(0, newline);
      out = out.slice(newline + 1);
      lines.push(line);
      received.push(JSON.parse(line) as Record<string, unknown>);
    }
    for (const wake of waiters) wake();
  });
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      for (const wake of waiters) wake();
      resolve(code);
    }),
  );
  child.stdin.on('error', () => {});
  return {
    child,
    write: (data) =>
      new Promise((resolve, reject) => child.stdin.write(data, (e) => (e ? reject(e) : resolve()))),
    messages: () => received,
    lines: () => lines,
    answer: (match, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(match);
          if (found) return finish(() => resolve(found));
          if (exitCode !== undefined)
            return finish(() =>
              reject(new Error(`the server exited (${exitCode}) without that answer:\n${err}`)),
            );
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no matching answer within ${timeoutMs} ms:\n${err}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      }),
    stderr: () => err,
    alive: () => exitCode === undefined,
    close: async (timeoutMs = 10_000) => {
      if (exitCode !== undefined) return exitCode;
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command to the end, with optional stdin text, and collect what it printed. */
export function runCommand(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? (process.env as Record<string, string>),
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Run a server's CLI command (`login`, `status`, ...) with node. */
export function runBin(
  bin: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return runCommand(process.execPath, [bin, ...args], options);
}

/** Every MCP server of the repository (see servers.ts): its bin name and built `dist/bin.js`. */
export function serverBins(): Array<{ name: string; bin: string }> {
  return serverPackages().map(({ name, bin }) => ({ name, bin }));
}
