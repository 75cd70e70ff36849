// The real @databricks/sql, as the bundle carries it (a chunk of dist/, with thrift, node-fetch, apache-arrow
// and the rest inside), talking Thrift over HTTP to the fake workspace. The other Databricks tests load a fake
// driver instead, so this is the one that proves the bundled driver loads, signs its requests, encodes
// TCLIService calls and decodes the answers. The fake answers OpenSession and refuses the statement: the
// status check must show the warehouse's own refusal, which only a decoded reply can carry.
// Wire format: TCLIService.thrift of the driver (thrift/TCLIService.js, generated from it), binary protocol
// over HTTP POST to the warehouse path (databricks-sql-nodejs lib/connection/connections/ThriftHttpConnection.ts).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { isolatedEnv, runBin } from '@switchyard/testkit';
import { bin, withDatabricks } from './helpers.js';

interface Transport {
  flush(): void;
}
interface ThriftLib {
  TBufferedTransport: (new (buffer: undefined, onFlush: (b: Buffer) => void) => Transport) & {
    receiver(onMessage: (transport: Transport) => void): (data: Buffer) => void;
  };
  TBinaryProtocol: new (transport: Transport) => unknown;
}
type Struct = new (args: Record<string, unknown>) => unknown;

const require = createRequire(import.meta.url);
const thrift = require('thrift') as ThriftLib;
const { Processor } = require('@databricks/sql/thrift/TCLIService.js') as {
  Processor: new (handler: Record<string, (req: unknown) => unknown>) => {
    process(input: unknown, output: unknown): void;
  };
};
const types = require('@databricks/sql/thrift/TCLIService_types.js') as Record<string, Struct> & {
  TStatusCode: Record<string, number>;
  TProtocolVersion: Record<string, number>;
};

const REFUSAL = '[INSUFFICIENT_PERMISSIONS] The fake warehouse runs no statements.';
const calls: string[] = [];
const ok = () => new types.TStatus!({ statusCode: types.TStatusCode.SUCCESS_STATUS });
// The warehouse side of TCLIService, through the generated Processor: it decodes the call and encodes the reply
// (a handler of one parameter answers with its return value).
const warehouse = new Processor({
  OpenSession: (_req) => {
    calls.push('OpenSession');
    return new types.TOpenSessionResp!({
      status: ok(),
      serverProtocolVersion: types.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8,
      sessionHandle: new types.TSessionHandle!({
        sessionId: new types.THandleIdentifier!({
          guid: Buffer.from(randomUUID().replaceAll('-', ''), 'hex'),
          secret: Buffer.alloc(16, 2),
        }),
      }),
    });
  },
  ExecuteStatement: (_req) => {
    calls.push('ExecuteStatement');
    return new types.TExecuteStatementResp!({
      status: new types.TStatus!({
        statusCode: types.TStatusCode.ERROR_STATUS,
        errorMessage: REFUSAL,
        sqlState: '42501',
      }),
    });
  },
  CloseSession: (_req) => {
    calls.push('CloseSession');
    return new types.TCloseSessionResp!({ status: ok() });
  },
});

function answer(body: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const output = new thrift.TBinaryProtocol(new thrift.TBufferedTransport(undefined, resolve));
    thrift.TBufferedTransport.receiver((input) =>
      warehouse.process(new thrift.TBinaryProtocol(input), output),
    )(body);
  });
}

const t = withDatabricks({
  seed: (fake) => {
    fake.rest.route('POST', '/sql/1.0/warehouses/:id', async (req) => ({
      headers: { 'content-type': 'application/x-thrift' },
      body: await answer(req.body),
    }));
  },
  server: false,
});

it('the bundled driver opens a Thrift session with the token and brings back the warehouse refusal', async () => {
  const env = t.world.env();
  delete env.LAKEHOUSE_DATABRICKS_DRIVER_MODULE;
  const status = await runBin(bin, ['status'], {
    env: isolatedEnv({ configDir: t.dirs.configDir, dataDir: t.dirs.dataDir, env }),
    timeoutMs: 60_000,
  });
  expect(status.stdout).toContain(REFUSAL);
  expect(calls.slice(0, 2)).toEqual(['OpenSession', 'ExecuteStatement']);
  const [open] = t.world.rest.requestsTo('/sql/1.0/warehouses/wh1', 'POST');
  expect(open?.headers.authorization).toBe('Bearer dapi-test-token');
  expect(open?.headers['user-agent']).toContain('switchyard-lakehouse-mcp');
  expect(status.code).toBe(1);
});
