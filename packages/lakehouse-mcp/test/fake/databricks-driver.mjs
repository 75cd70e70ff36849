// A fake of @databricks/sql at the driver boundary: DBSQLClient → session → operation, with the methods the
// lakehouse uses and the driver's own error classes. It runs inside the spawned server (named by
// LAKEHOUSE_DATABRICKS_DRIVER_MODULE) and answers every statement from a script: a JSON file the test writes
// (LAKEHOUSE_FAKE_DATABRICKS_SCRIPT), read again for each call, so a test can change the answers between
// calls. Every call is appended to `<script>.log` (JSON lines) for the test to read.
//
// Script: { openSession?: { delayMs?, error? }, volume: '/dir', rules: [{ match, times?, columns?, rows?,
//   error?: { class, message, sqlState?, state? }, at?: 'execute', hang?, cancelled? }] }
// A rule matches when `match` (a regular expression, case-insensitive) finds the statement; the first rule
// whose `times` is not used up answers. PUT/REMOVE with stagingAllowedLocalPath act on `volume` as the real
// driver's staging does (the local path must be inside an allowed folder). No rule: an error, so an
// unexpected statement never passes silently.
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative } from 'node:path';

const require = createRequire(import.meta.url);
const OperationStateError = require('@databricks/sql/dist/errors/OperationStateError.js').default;
const StagingError = require('@databricks/sql/dist/errors/StagingError.js').default;

const scriptPath = process.env.LAKEHOUSE_FAKE_DATABRICKS_SCRIPT;
const used = new Map();
let ids = 0;

function script() {
  return JSON.parse(readFileSync(scriptPath, 'utf8'));
}

function log(entry) {
  appendFileSync(`${scriptPath}.log`, `${JSON.stringify({ at: Date.now(), ...entry })}\n`);
}

const TYPE_IDS = {
  boolean: 0,
  tinyint: 1,
  smallint: 2,
  int: 3,
  bigint: 4,
  float: 5,
  double: 6,
  string: 7,
  timestamp: 8,
  binary: 9,
  array: 10,
  map: 11,
  struct: 12,
  decimal: 15,
  date: 17,
};

function schemaOf(columns) {
  return {
    columns: columns.map(([name, type], position) => {
      const decimal = /^decimal\((\d+),(\d+)\)$/.exec(type);
      const base = decimal ? 'decimal' : type.replace(/<.*$/, '');
      return {
        columnName: name,
        position: position + 1,
        typeDesc: {
          types: [
            {
              primitiveEntry: {
                type: TYPE_IDS[base] ?? 7,
                typeQualifiers: decimal
                  ? {
                      qualifiers: {
                        precision: { i32Value: Number(decimal[1]) },
                        scale: { i32Value: Number(decimal[2]) },
                      },
                    }
                  : null,
              },
            },
          ],
        },
      };
    }),
  };
}

/** An error as the Thrift backend raises it for a failed statement: OperationStateError with the response. */
function statementError(error) {
  const state = error.state ?? 'ERROR';
  const code =
    { ERROR: 'ERROR', CANCELED: 'CANCELED', TIMEOUT: 'TIMEOUT', CLOSED: 'CLOSED' }[state] ?? 'ERROR';
  const text = error.class
    ? `[${error.class}] ${error.message}${error.sqlState ? ` SQLSTATE: ${error.sqlState}` : ''}`
    : error.message;
  return new OperationStateError(code, {
    displayMessage: text,
    errorMessage: `org.apache.hive.service.cli.HiveSQLException: Error running query: ${text}\n\tat org.apache.spark...`,
    sqlState: error.sqlState,
    operationState: 5,
  });
}

function findRule(sql) {
  const { rules = [] } = script();
  for (const [i, rule] of rules.entries()) {
    if (!new RegExp(rule.match, 'is').test(sql)) continue;
    const key = `${i}:${rule.match}`;
    const n = used.get(key) ?? 0;
    if (rule.times !== undefined && n >= rule.times) continue;
    used.set(key, n + 1);
    return rule;
  }
  return undefined;
}

class FakeOperation {
  constructor(sql, rule) {
    this.id = `op-${++ids}`;
    this.sql = sql;
    this.rule = rule;
    this.offset = 0;
    this.cancelled = false;
    this.waiters = [];
    const columns = rule?.columns ?? [];
    this.columns = columns;
    this.rows = (rule?.rows ?? []).map((r) => Object.fromEntries(columns.map(([name], j) => [name, r[j]])));
  }

  async ready() {
    if (this.rule?.hang && !this.cancelled) {
      await new Promise((resolve) => this.waiters.push(resolve));
    }
    if (this.cancelled)
      throw new OperationStateError('CANCELED', { displayMessage: undefined, operationState: 3 });
    if (this.rule?.cancelled) throw new OperationStateError('CANCELED', { operationState: 3 });
    if (this.rule?.error) throw statementError(this.rule.error);
  }

  async fetchChunk(options = {}) {
    await this.ready();
    const n = options.maxRows ?? 100_000;
    const chunk = this.rows.slice(this.offset, this.offset + n);
    this.offset += chunk.length;
    log({ call: 'fetch', op: this.id, rows: chunk.length });
    return chunk;
  }

  async fetchAll() {
    await this.ready();
    const rest = this.rows.slice(this.offset);
    this.offset = this.rows.length;
    return rest;
  }

  async hasMoreRows() {
    return this.offset < this.rows.length;
  }

  async getSchema() {
    await this.ready();
    return schemaOf(this.columns);
  }

  async cancel() {
    log({ call: 'cancel', op: this.id, sql: this.sql });
    this.cancelled = true;
    for (const w of this.waiters.splice(0)) w();
    return { isSuccess: true };
  }

  async close() {
    log({ call: 'close', op: this.id });
    return { isSuccess: true };
  }
}

class FakeSession {
  constructor(request) {
    this.id = `session-${++ids}`;
    this.request = request;
  }

  async executeStatement(sql, options = {}) {
    const params = options.namedParameters ?? options.ordinalParameters;
    const staging = options.stagingAllowedLocalPath;
    const rule = findRule(sql);
    const op = new FakeOperation(sql, rule);
    log({
      call: 'execute',
      op: op.id,
      session: this.id,
      sql,
      ...(params ? { params } : {}),
      ...(staging ? { staging } : {}),
    });
    if (rule?.error && rule.at === 'execute') throw statementError(rule.error);
    if (rule) {
      if (staging !== undefined) await op.ready();
      return op;
    }
    const put = /^PUT '((?:[^'\\]|\\.)*)' INTO '((?:[^'\\]|\\.)*)' OVERWRITE$/s.exec(sql);
    const remove = /^REMOVE '((?:[^'\\]|\\.)*)'$/s.exec(sql);
    if ((put || remove) && staging !== undefined) {
      const { volume } = script();
      if (put) {
        const local = put[1].replace(/\\(.)/g, '$1');
        const allowed = (Array.isArray(staging) ? staging : [staging]).some((dir) => {
          const rel = relative(dir, local);
          return !rel.startsWith('..') && !isAbsolute(rel);
        });
        if (!allowed) throw new StagingError('Staging path not a subset of allowed local paths.');
        const target = join(volume, put[2].replace(/\\(.)/g, '$1'));
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(local, target);
      } else {
        // Removed files are kept aside (not in the volume any more) so a test can still read what was loaded.
        const path = remove[1].replace(/\\(.)/g, '$1');
        const kept = join(`${volume}-removed`, path);
        mkdirSync(dirname(kept), { recursive: true });
        try {
          renameSync(join(volume, path), kept);
        } catch {
          // REMOVE of a file that is not there succeeds, as on the real volume.
        }
      }
      return op;
    }
    throw statementError({
      class: 'FAKE_NO_SCRIPT',
      message: `the fake has no answer for: ${sql.slice(0, 200)}`,
    });
  }

  async close() {
    log({ call: 'closeSession', session: this.id });
    return { isSuccess: true };
  }
}

export class DBSQLClient {
  constructor(options = {}) {
    this.logger = options.logger;
  }

  async connect(options) {
    log({
      call: 'connect',
      host: options.host,
      path: options.path,
      authType: options.authType ?? 'access-token',
      telemetryEnabled: options.telemetryEnabled,
      token: options.token ? `<${options.token.length} chars>` : undefined,
      oauthClientId: options.oauthClientId,
      oauthClientSecret: options.oauthClientSecret ? '<set>' : undefined,
    });
    const { connect } = script();
    if (connect?.error) throw Object.assign(new Error(connect.error.message), connect.error);
    return this;
  }

  async openSession(request = {}) {
    const { openSession } = script();
    const session = new FakeSession(request);
    log({ call: 'openSession', session: session.id, request });
    if (openSession?.delayMs) await new Promise((r) => setTimeout(r, openSession.delayMs));
    if (openSession?.error) throw Object.assign(new Error(openSession.error.message), openSession.error);
    return session;
  }

  async close() {
    log({ call: 'closeClient' });
  }
}

export default { DBSQLClient };
