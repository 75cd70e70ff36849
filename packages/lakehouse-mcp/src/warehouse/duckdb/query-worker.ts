/**
 * The query process: user SQL on the embedded warehouse runs here, in a child of the server (see
 * query-sandbox.ts), so that the server can stop it whatever DuckDB is doing. Some work cannot be
 * interrupted (one huge value built by a single function call, constants folded while preparing) and DuckDB's
 * memory limit does not count every allocation; killing this process is the one stop that always works.
 *
 * It opens the tenant's file read-only with the hardened settings the server sends, answers `describe` and
 * `query` requests over IPC, keeps the engine open between them (a query after a pause runs warm), lets go of
 * the file when told (a writer, here or in another process, is coming), and ends when its parent goes.
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { toErrorRecord } from '@switchyard/core';
import { describeQuery, loadDuckDB, openEngine, runQuery, type QueryRun } from './query.js';
import type { SandboxReply, SandboxRequest, SandboxSetup } from './query-sandbox.js';

const setup = JSON.parse(process.env.SWITCHYARD_LAKEHOUSE_QUERY ?? '{}') as SandboxSetup;
const send = (reply: SandboxReply) => process.send?.(reply);

// The server went (or closed the channel): nothing here may outlive it, and process.exit waits for a running
// DuckDB statement.
process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));

let engine: Promise<DuckDBInstance> | undefined;
const running = new Map<number, DuckDBConnection>();

/** Close the engine; answered once the file is free, since a writer opens it next. */
async function release(): Promise<void> {
  const closing = engine;
  engine = undefined;
  await closing?.then((instance) => instance.closeSync()).catch(() => {});
}

async function withConnection<T>(id: number, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  engine ??= openEngine(setup.file, setup.catalog, setup.dir, setup.options);
  engine.catch(() => (engine = undefined));
  const conn = await (await engine).connect();
  running.set(id, conn);
  try {
    return await fn(conn);
  } finally {
    running.delete(id);
    conn.closeSync();
  }
}

async function answer(request: SandboxRequest): Promise<void> {
  const { id } = request;
  try {
    if (request.type === 'describe') {
      const described = await withConnection(id, (conn) => describeQuery(conn, request.text, setup.catalog));
      send({ id, ok: true, value: described });
    } else if (request.type === 'query') {
      const run: QueryRun = request.options;
      const result = await withConnection(id, (conn) => runQuery(conn, request.text, setup.catalog, run));
      send({ id, ok: true, value: result });
    }
  } catch (err) {
    send({ id, ok: false, error: toErrorRecord(err) });
  }
}

process.on('message', (request: SandboxRequest) => {
  if (request.type === 'interrupt') running.get(request.target)?.interrupt();
  else if (request.type === 'release') {
    void release().then(() => send({ id: request.id, ok: true, value: null }));
  } else void answer(request);
});
// DuckDB's native module loads while the server waits for its first query.
void loadDuckDB().catch(() => {});
send({ id: 0, ok: true, value: 'ready' });
