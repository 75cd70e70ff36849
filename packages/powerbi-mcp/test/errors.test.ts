// Every error the issue lists, through the built bin: the exact answer the model sees, and the server
// (and what Power BI holds) carrying on unharmed afterwards.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, spawnServer, type SpawnedServer } from '@switchyard/testkit';
import { guid } from './fake/index.js';
import { bin, hostEnv, SP, stable, VIEWER, withWorld } from './helpers.js';

let viewer: SpawnedServer;
const at = { workspace: 'Sales Analytics', dataset: 'Sales Model' };
const SP_NAME = `service principal ${SP.clientId}`;
const seen: string[] = [];

const t = withWorld({ server: { env: { SWITCHYARD_LOG_LEVEL: 'debug' } } });
beforeAll(async () => {
  const token = t.world.authority.mint({
    username: VIEWER,
    scopes: ['Dataset.Read.All', 'Workspace.Read.All'],
  });
  viewer = await t.spawn({
    isolated: true,
    env: { POWERBI_API_URL: t.world.pbi.apiUrl, POWERBI_ACCESS_TOKEN: token },
  });
});
afterAll(() => {
  // No secret and no token reaches a tool result or a log line (this runs before the fixture closes the servers).
  const everything = [...seen, t.server.stderr(), viewer.stderr()].join('\n');
  expect(everything).not.toContain(SP.secret);
  for (const token of t.world.authority.issued.keys()) expect(everything).not.toContain(token);
});

async function call(server: SpawnedServer, name: string, args: Record<string, unknown>) {
  const result = await server.call(name, args);
  seen.push(result.text);
  return result;
}

/** The server still answers, and Power BI's state was not changed by the failure. */
async function stillWorks(server: SpawnedServer = t.server) {
  const refreshes = t.world.pbi.dataset('Sales Analytics', 'Sales Model').refreshes.length;
  const ok = await call(server, 'powerbi_execute_dax', {
    ...at,
    query: 'EVALUATE ROW("orders", [Order Count])',
  });
  expect(ok.isError).toBe(false);
  expect(rowsOf(ok)).toEqual([['1000']]);
  expect(t.world.pbi.dataset('Sales Analytics', 'Sales Model').refreshes).toHaveLength(refreshes);
}

interface Case {
  what: string;
  server?: () => SpawnedServer;
  setup?: () => void;
  teardown?: () => void;
  tool: string;
  args: Record<string, unknown>;
  answer: string;
}

const cases: Case[] = [
  {
    what: 'a DAX error (400 with pbi.error details): the position and the message',
    tool: 'powerbi_execute_dax',
    args: { ...at, query: 'EVALUATE\nTOPN(5, Sales, Sales[Amnt])' },
    answer:
      "The DAX query failed at line 2, column 16: «Column 'Amnt' in table 'Sales' cannot be found or may not be used in this expression.» Check the table, column and measure names with powerbi_get_dataset_schema, fix the query and run it again.",
  },
  {
    what: '401 GroupNotAccessible: no access to the workspace',
    tool: 'powerbi_list_datasets',
    args: { workspace: guid(2, 1) },
    answer: `Service principal ${SP.clientId} has no access to workspace ${guid(2, 1)}. Upstream said: Power BI 401 GroupNotAccessible (request id <id>). Add the service principal to the workspace (Manage access → Viewer or higher; Contributor to refresh); the tenant setting 'Service principals can call Fabric public APIs' must also include it.`,
  },
  {
    what: '404 PowerBIEntityNotFound: no Build permission on the dataset',
    server: () => viewer,
    tool: 'powerbi_execute_dax',
    args: { ...at, dataset: 'Restricted Model', query: 'EVALUATE Customer' },
    answer:
      'victor@contoso.com cannot query dataset «Restricted Model»: it lacks Build permission on it. Upstream said: Power BI 404 PowerBIEntityNotFound (request id <id>). Grant Build permission on the semantic model (its ⋯ menu → Manage permissions), or a Contributor role or higher in its workspace.',
  },
  {
    what: '403 with x-powerbi-error-info that a fresh token does not cure',
    setup: () => (t.world.pbi.settings.refuseAllTokens = true),
    teardown: () => (t.world.pbi.settings.refuseAllTokens = false),
    tool: 'powerbi_list_datasets',
    args: { workspace: 'Sales Analytics' },
    answer: `Power BI refused the access token of ${SP_NAME} (TokenExpired) even after a fresh one was fetched. Upstream said: Power BI 403 TokenExpired (request id <id>). Check that the app registration lives in the Power BI tenant and cloud (public), and that its secret or certificate is current.`,
  },
  {
    what: '429 with a Retry-After longer than the server waits',
    setup: () => void t.world.pbi.service.inject({ path: /executeQueries$/, status: 429, retryAfter: 120 }),
    tool: 'powerbi_execute_dax',
    args: { ...at, query: 'EVALUATE Customer' },
    answer:
      'Power BI is throttling requests and asks to wait 120 s. Upstream said: Power BI 429. executeQueries allows 120 queries per minute per user: wait, then ask fewer, larger questions (one SUMMARIZECOLUMNS instead of many small queries).',
  },
  {
    what: "the tenant setting 'Dataset Execute Queries REST API' off",
    setup: () => (t.world.pbi.settings.executeQueriesEnabled = false),
    teardown: () => (t.world.pbi.settings.executeQueriesEnabled = true),
    tool: 'powerbi_execute_dax',
    args: { ...at, query: 'EVALUATE Customer' },
    answer: `Power BI refused to run DAX for ${SP_NAME}: the tenant setting 'Dataset Execute Queries REST API' is off or does not include this identity. Upstream said: Power BI 401 PowerBINotAuthorizedException (request id <id>). A Power BI admin can turn it on (Admin portal → Tenant settings → Integration settings); the caller also needs Read and Build permission on the dataset.`,
  },
  {
    what: 'a service principal on a dataset with row-level security',
    tool: 'powerbi_execute_dax',
    args: { ...at, dataset: 'Sales Model (RLS)', query: 'EVALUATE Customer' },
    answer:
      'Power BI does not let a service principal query dataset «Sales Model (RLS)» because it uses row-level security. Upstream said: Power BI 401 PowerBINotAuthorizedException (request id <id>). Sign in as a user instead (`powerbi-mcp login`) and query as yourself or with impersonated_user; service principals cannot query RLS or SSO datasets through executeQueries, whatever the tenant settings.',
  },
  {
    what: 'a network failure (every connection dropped, retries spent)',
    setup: () => void t.world.pbi.service.inject({ path: /executeQueries$/, drop: true, times: 4 }),
    teardown: () => t.world.pbi.service.clearFaults(),
    tool: 'powerbi_execute_dax',
    args: { ...at, query: 'EVALUATE Customer' },
    answer:
      'Could not reach Power BI at localhost:PORT (UND_ERR_SOCKET). Check the network connection and the configured URL.',
  },
  {
    what: 'a dataset id that does not exist in the workspace',
    tool: 'powerbi_execute_dax',
    args: { workspace: 'Sales Analytics', dataset: guid(99, 2), query: 'EVALUATE Customer' },
    answer: `Workspace ${guid(1, 1)} has no dataset ${guid(99, 2)}, or it is hidden from the caller. Upstream said: Power BI 404 ItemNotFound: «Dataset ${guid(99, 2)} is not found! please verify datasetId is correct and user have sufficient permissions.» List the datasets with powerbi_list_datasets.`,
  },
  {
    what: 'an unknown workspace name, answered with candidates',
    tool: 'powerbi_list_reports',
    args: { workspace: 'Sales' },
    answer:
      "No workspace is named 'Sales'. Candidates: «Sales Analytics». Names must match exactly; pass one of the candidates or an id.",
  },
  {
    what: 'an ambiguous workspace name, answered with candidates',
    tool: 'powerbi_list_datasets',
    args: { workspace: 'Shared' },
    answer: `2 workspaces are named 'Shared'. Candidates: «Shared (${guid(3, 1)})», «Shared (${guid(4, 1)})». Pass the id instead of the name.`,
  },
  {
    what: 'an unknown dataset name, answered with candidates',
    tool: 'powerbi_get_refresh_history',
    args: { workspace: 'Sales Analytics', dataset: 'sales' },
    answer:
      "No dataset in workspace «Sales Analytics» is named 'sales'. Candidates: «Sales Model», «Sales Model (RLS)». Names must match exactly; pass one of the candidates or an id.",
  },
  {
    what: 'a refresh by a caller without write permission',
    server: () => viewer,
    tool: 'powerbi_refresh_dataset',
    args: at,
    answer:
      'The supplied token of victor@contoso.com lacks the Dataset.ReadWrite.All permission, so it cannot start refreshes. Supply a token that carries Dataset.ReadWrite.All in POWERBI_ACCESS_TOKEN.',
  },
  {
    what: 'a refresh of a dataset that cannot refresh',
    tool: 'powerbi_refresh_dataset',
    args: { workspace: 'Sales Analytics', dataset: 'Live Connection' },
    answer:
      'Power BI refused to refresh dataset «Live Connection» in workspace «Sales Analytics». Upstream said: Power BI 400 InvalidRequest: «Dataset is not refreshable: it uses a live connection» (request id <id>). Check that the dataset imports data (live and DirectQuery models need no refresh) and that no refresh is running already.',
  },
  {
    what: 'max_rows over the hard bound',
    tool: 'powerbi_execute_dax',
    args: { ...at, query: 'EVALUATE Customer', max_rows: 100_001 },
    answer:
      "Invalid arguments for powerbi_execute_dax: 'max_rows': Too big: expected number to be <=100000. Check the tool's input schema and call it again.",
  },
];

describe('errors a user meets', () => {
  it.each(cases)('$what', async (c) => {
    c.setup?.();
    try {
      const server = c.server?.() ?? t.server;
      const result = await call(server, c.tool, c.args);
      expect(result.isError).toBe(true);
      expect(stable(result.text).replace(/localhost:\d+/, 'localhost:PORT')).toBe(c.answer);
    } finally {
      c.teardown?.();
    }
    await stillWorks();
    if (c.server) await stillWorks(c.server());
  });

  it('an HTTP 200 partial result: the rows, said clearly to be partial', async () => {
    t.world.pbi.settings.maxRows = 100;
    try {
      const result = await call(t.server, 'powerbi_execute_dax', {
        ...at,
        query: 'EVALUATE Sales',
        max_rows: 500,
      });
      expect(result.isError).toBe(false);
      const lines = result.text.split('\n');
      expect(lines[0]).toBe(
        'PARTIAL RESULT: Power BI stopped after 100 rows and said: «More than 100 rows in a query result». These rows are not the whole answer; aggregate or filter in DAX so the result stays under 100,000 rows and 1,000,000 values.',
      );
      expect(lines[1]).toBe('100 rows from dataset «Sales Model» in workspace «Sales Analytics».');
      expect(result.structured).toMatchObject({
        row_count: 100,
        returned: 100,
        partial: true,
        partial_reason: 'More than 100 rows in a query result',
      });
      t.world.pbi.settings.maxRows = 100_000;
      t.world.pbi.settings.maxValues = 1400;
      const values = await call(t.server, 'powerbi_execute_dax', { ...at, query: 'EVALUATE Sales' });
      expect(values.structured).toMatchObject({
        row_count: 200,
        partial: true,
        partial_reason: 'More than 1400 values in a query result',
      });
    } finally {
      t.world.pbi.settings.maxRows = 100_000;
      t.world.pbi.settings.maxValues = 1_000_000;
    }
    await stillWorks();
  });

  it('403 x-powerbi-error-info once: the token is refreshed and the call goes through', async () => {
    t.world.pbi.expireIssuedTokens();
    const before = t.world.pbi.service.requests.length;
    const tokens = () =>
      t.world.pbi.service.requests
        .slice(before)
        .map((r) => [r.status, String(r.headers.authorization).slice(-12)] as const);
    const result = await call(t.server, 'powerbi_list_workspaces', { top: 1 });
    expect(result.isError).toBe(false);
    const [first, second] = tokens();
    expect(first![0]).toBe(403);
    expect(second![0]).toBe(200);
    expect(second![1]).not.toBe(first![1]);
  });

  it('429 with a short Retry-After: waited for and retried', async () => {
    t.world.pbi.service.inject({ path: /executeQueries$/, status: 429, retryAfter: 1 });
    const before = t.world.pbi.service.requestsTo(/executeQueries$/).length;
    const started = Date.now();
    const result = await call(t.server, 'powerbi_execute_dax', { ...at, query: 'EVALUATE ROW("x", 1)' });
    expect(result.isError).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(
      t.world.pbi.service
        .requestsTo(/executeQueries$/)
        .slice(before)
        .map((r) => r.status),
    ).toEqual([429, 200]);
  });

  it("429 from Power BI's own limit of queries per minute", async () => {
    // Earlier tests ran queries this minute: with a limit of one, the next is refused until the oldest ages out.
    t.world.pbi.settings.queriesPerMinute = 1;
    try {
      const result = await call(t.server, 'powerbi_execute_dax', { ...at, query: 'EVALUATE ROW("x", 1)' });
      const wait = Number(
        /^Power BI is throttling requests and asks to wait (\d+) s\./.exec(result.text)?.[1],
      );
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(60);
      expect(t.world.pbi.service.requestsTo(/executeQueries$/).at(-1)!.status).toBe(429);
    } finally {
      t.world.pbi.settings.queriesPerMinute = 120;
    }
    await stillWorks();
  });

  it('a cancelled query: the upstream call stops and the server answers the next call', async () => {
    t.world.pbi.service.inject({ path: /executeQueries$/, delayMs: 4000 });
    const controller = new AbortController();
    const sent = t.world.pbi.service.requestsTo(/executeQueries$/).length;
    const pending = t.server
      .call('powerbi_execute_dax', { ...at, query: 'EVALUATE Customer' }, { signal: controller.signal })
      .then(
        () => 'answered',
        () => 'rejected',
      );
    // Cancel once the query has reached Power BI.
    await expect.poll(() => t.world.pbi.service.requestsTo(/executeQueries$/).length).toBeGreaterThan(sent);
    controller.abort();
    expect(await pending).toBe('rejected');
    // The server hung up on Power BI instead of waiting for the (delayed) answer.
    await expect.poll(() => t.world.pbi.service.requestsTo(/executeQueries$/).at(-1)!.abandoned).toBe(true);
    await stillWorks();
    await expect
      .poll(() => t.server.stderr())
      .toContain(
        'powerbi_execute_dax answered with CancelledError {"message":"The call was cancelled before it finished; nothing was changed by the cancelled part."}',
      );
  });

  it('a cancelled wait for a refresh: the refresh goes on, and the answer says so', async () => {
    t.world.pbi.settings.refreshMs = 30_000;
    try {
      const controller = new AbortController();
      const seen = t.world.pbi.service.requests.length;
      // The refresh was started (POST) and the server has read its state since (GET): it is waiting.
      const waiting = () => {
        const since = t.world.pbi.service.requests.slice(seen).filter((r) => /\/refreshes/.test(r.path));
        const started = since.findIndex((r) => r.method === 'POST');
        return started >= 0 && since.slice(started + 1).some((r) => r.method === 'GET');
      };
      const pending = t.server
        .call('powerbi_refresh_dataset', { ...at, wait: true }, { signal: controller.signal })
        .then(
          () => 'answered',
          () => 'rejected',
        );
      // Cancel while the server waits for the refresh it started (it has read the refresh's state).
      await expect.poll(waiting).toBe(true);
      controller.abort();
      expect(await pending).toBe('rejected');
      await expect
        .poll(() => t.server.stderr())
        .toContain(
          'answered with CancelledError {"message":"Stopped waiting for the refresh of dataset «Sales Model» in workspace «Sales Analytics»; the refresh itself goes on in Power BI (follow it with powerbi_get_refresh_history)."}',
        );
      expect(t.world.pbi.dataset('Sales Analytics', 'Sales Model').refreshes[0]!.finishesAt).toBeGreaterThan(
        Date.now(),
      );
    } finally {
      t.world.pbi.settings.refreshMs = 1500;
    }
  });
});

describe('without credentials', () => {
  it('starts, lists its tools, and every call says how to sign in', async () => {
    const bare = await spawnServer(bin, {});
    try {
      expect((await bare.client.listTools()).tools).toHaveLength(7);
      const answer =
        'Not signed in to Power BI. Run `powerbi-mcp login` (a user, by device code) or `powerbi-mcp login --service-principal`, or give the server POWERBI_TENANT_ID, POWERBI_CLIENT_ID and POWERBI_CLIENT_SECRET (or POWERBI_ACCESS_TOKEN) in its environment.';
      for (const [name, args] of [
        ['powerbi_list_workspaces', {}],
        ['powerbi_execute_dax', { ...at, query: 'EVALUATE Customer' }],
        ['powerbi_refresh_dataset', at],
      ] as const) {
        const result = await bare.call(name, args);
        expect(result.isError).toBe(true);
        expect(result.text).toBe(answer);
      }
      // No model is listed without a sign-in; only the server's own toolsets resource is.
      expect((await bare.client.listResources()).resources.map((r) => r.uri)).toEqual([
        'switchyard://toolsets',
      ]);
    } finally {
      await bare.close();
    }
  });

  it('names what is missing when only part of a service principal is set', async () => {
    const half = await spawnServer(bin, {
      env: { POWERBI_CLIENT_SECRET: SP.secret, POWERBI_API_URL: t.world.pbi.apiUrl },
    });
    try {
      const result = await half.call('powerbi_list_workspaces', {});
      expect(result.text).toBe(
        'POWERBI_CLIENT_SECRET is set but POWERBI_TENANT_ID and POWERBI_CLIENT_ID are not. Set the directory (tenant) id and the application (client) id of the app registration too.',
      );
      expect(result.text + half.stderr()).not.toContain(SP.secret);
    } finally {
      await half.close();
    }
  });

  it('says when the API cannot be reached at all', async () => {
    const nowhere = await spawnServer(bin, {
      env: { ...hostEnv(t.world), POWERBI_API_URL: 'https://127.0.0.1:9/v1.0/myorg' },
    });
    try {
      const result = await nowhere.call('powerbi_list_workspaces', {});
      expect(result.text).toBe(
        'Could not reach Power BI at 127.0.0.1:9 (ECONNREFUSED). Check the network connection and the configured URL.',
      );
    } finally {
      await nowhere.close();
    }
  });
});
