// The Databricks side of the tests: the REST API a workspace serves (warehouse state, start, OAuth M2M
// tokens) on testkit's FakeService, and the script + statement log of the fake driver
// (test/fake/databricks-driver.mjs) that the spawned server loads in place of @databricks/sql.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeService } from '@switchyard/testkit';

export const driverModule = fileURLToPath(new URL('./fake/databricks-driver.mjs', import.meta.url));

export interface Rule {
  match: string;
  times?: number;
  columns?: Array<[string, string]>;
  rows?: unknown[][];
  error?: { class?: string; message: string; sqlState?: string; state?: 'ERROR' | 'CANCELED' | 'TIMEOUT' };
  at?: 'execute';
  hang?: boolean;
  cancelled?: boolean;
}

export interface LogEntry {
  call: string;
  op?: string;
  sql?: string;
  params?: Record<string, unknown>;
  staging?: string[];
  request?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Statements every write path runs first: catalog, schemas, volume, metadata tables. */
export const BOOTSTRAP: Rule = { match: '^CREATE (CATALOG|SCHEMA|VOLUME|TABLE) IF NOT EXISTS' };
/** Metadata writes (runs, state, lineage, connections). */
export const META_WRITES: Rule = {
  match: '^(INSERT INTO|DELETE FROM|MERGE INTO) `[^`]+`\\.`(_meta|tenant_\\w+_meta)`\\.',
};

export class FakeDatabricks {
  readonly dir = mkdtempSync(join(tmpdir(), 'lakehouse-dbx-'));
  readonly scriptPath = join(this.dir, 'script.json');
  readonly volume = join(this.dir, 'volume');
  state = 'RUNNING';
  private constructor(readonly rest: FakeService) {}

  static async start(): Promise<FakeDatabricks> {
    const rest = await FakeService.start('Databricks');
    const fake = new FakeDatabricks(rest);
    rest.route('GET', '/api/2.0/sql/warehouses/:id', (req) => {
      if (
        req.headers.authorization !== 'Bearer dapi-test-token' &&
        req.headers.authorization !== 'Bearer m2m-access-token'
      ) {
        return { status: 401, body: { error_code: 'UNAUTHENTICATED', message: 'Invalid access token.' } };
      }
      return { body: { id: req.params.id, name: 'Shared warehouse', state: fake.state } };
    });
    rest.route('POST', '/api/2.0/sql/warehouses/:id/start', () => {
      fake.state = 'STARTING';
      return { body: {} };
    });
    rest.route('POST', '/oidc/v1/token', (req) => {
      const expected = `Basic ${Buffer.from('sp-client:sp-secret').toString('base64')}`;
      if (req.headers.authorization !== expected) {
        return {
          status: 401,
          body: { error: 'invalid_client', error_description: 'Client authentication failed' },
        };
      }
      return { body: { access_token: 'm2m-access-token', token_type: 'Bearer', expires_in: 3600 } };
    });
    fake.script([]);
    return fake;
  }

  get host(): string {
    return new URL(this.rest.url).host;
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      LAKEHOUSE_WAREHOUSE: 'databricks',
      DATABRICKS_HOST: this.host,
      DATABRICKS_WAREHOUSE_ID: 'wh1',
      DATABRICKS_TOKEN: 'dapi-test-token',
      LAKEHOUSE_DATABRICKS_DRIVER_MODULE: driverModule,
      LAKEHOUSE_FAKE_DATABRICKS_SCRIPT: this.scriptPath,
      ...extra,
    };
  }

  script(rules: Rule[], extra: Record<string, unknown> = {}): void {
    writeFileSync(this.scriptPath, JSON.stringify({ volume: this.volume, rules, ...extra }));
  }

  log(): LogEntry[] {
    const path = `${this.scriptPath}.log`;
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogEntry);
  }

  clearLog(): void {
    writeFileSync(`${this.scriptPath}.log`, '');
  }

  /** The statements executed since the last clearLog, in order. */
  statements(): string[] {
    return this.log()
      .filter((e) => e.call === 'execute')
      .map((e) => e.sql!);
  }

  async close(): Promise<void> {
    await this.rest.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
