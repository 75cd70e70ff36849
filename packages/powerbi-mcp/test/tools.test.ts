// Every tool end to end: the built bin over stdio, signed in as a service principal against the fakes.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeRequestCursor } from '@switchyard/core';
import { cursorOf, spawnServer, rowsOf, tableOf } from '@switchyard/testkit';
import { guid, salesModel } from './fake/index.js';
import { bin, hostEnv, withWorld } from './helpers.js';

const model = salesModel();
const SALES_WS = guid(1, 1);
const SALES_MODEL = guid(1, 2);
const at = { workspace: 'Sales Analytics', dataset: 'Sales Model' };

const t = withWorld();

const queries = () => t.world.pbi.service.requestsTo(/executeQueries$/, 'POST').length;

describe('powerbi_list_workspaces', () => {
  it('pages with top and a next_cursor that resumes the same listing', async () => {
    const first = await t.server.call('powerbi_list_workspaces', { top: 10 });
    expect(first.isError).toBe(false);
    const cursor = cursorOf(first.text)!;
    expect(first.text.split('\n')[0]).toBe(`10 workspaces (truncated; more exist). next_cursor: ${cursor}`);
    expect(first.structured).toMatchObject({
      returned: 10,
      truncated: true,
    });
    const second = await t.server.call('powerbi_list_workspaces', { cursor });
    expect(t.world.pbi.service.requestsTo(/\/groups$/, 'GET').at(-1)!.query).toMatchObject({
      $top: '11',
      $skip: '10',
    });
    const last = await t.server.call('powerbi_list_workspaces', {
      cursor: cursorOf(second.text)!,
    });
    expect(last.structured).toMatchObject({ returned: 7, truncated: false });
    expect(last.text).not.toContain('next_cursor');
    expect(last.text.split('\n')[0]).toBe('7 workspaces.');
    const names = rowsOf(last).map((w) => w[1]);
    expect(names).toEqual(['Team 18', 'Team 19', 'Team 20', 'Team 21', 'Team 22', 'Team 23', 'Team 24']);
    expect(t.world.pbi.service.requestsTo(/\/groups$/, 'GET').at(-1)!.query).toMatchObject({
      $top: '11',
      $skip: '20',
    });
  });

  it('refuses a cursor it did not give out, or one that would change the filter, before calling Power BI', async () => {
    const before = t.world.pbi.service.requestsTo(/\/groups$/, 'GET').length;
    const forged = await t.server.call('powerbi_list_workspaces', {
      cursor: encodeRequestCursor({}, '10; $filter=x', 'powerbi_list_workspaces'),
    });
    expect(forged.isError).toBe(true);
    expect(forged.text).toBe(
      'The cursor is not one this server gave out; pass the `next_cursor` of the previous answer unchanged.',
    );
    const page = await t.server.call('powerbi_list_workspaces', { top: 5, name_contains: 'team' });
    const changed = await t.server.call('powerbi_list_workspaces', {
      cursor: cursorOf(page.text)!,
      name_contains: 'sales',
    });
    expect(changed.isError).toBe(true);
    expect(changed.text).toMatch(
      /^This next_cursor continues a listing made with name_contains "team", not "sales"/,
    );
    expect(t.world.pbi.service.requestsTo(/\/groups$/, 'GET').length).toBe(before + 1);
  });

  it('filters by name on the server side, quoting the value', async () => {
    const call = await t.server.call('powerbi_list_workspaces', { name_contains: 'sales' });
    expect(call.text).toContain("1 workspace whose name contains 'sales'.");
    expect(call.text).toContain(`${SALES_WS},Sales Analytics,Workspace,true`);
    expect(call.text).toMatch(/\[BEGIN UNTRUSTED Power BI workspace names [0-9a-f]{8}:/);
    await t.server.call('powerbi_list_workspaces', { name_contains: "O'Brien" });
    expect(t.world.pbi.service.requestsTo(/\/groups$/, 'GET').at(-1)!.query.$filter).toBe(
      "contains(name,'O''Brien')",
    );
  });
});

describe('powerbi_list_datasets', () => {
  it('lists the semantic models of a workspace named by name or id', async () => {
    const byName = await t.server.call('powerbi_list_datasets', { workspace: 'Sales Analytics' });
    expect(byName.text.split('\n')[0]).toBe('4 semantic models in workspace «Sales Analytics».');
    expect(byName.text).toContain(`${SALES_MODEL},Sales Model,owner@contoso.com,true,Abf,false`);
    expect(rowsOf(byName)).toContainEqual([
      guid(2, 2),
      'Sales Model (RLS)',
      'owner@contoso.com',
      'true',
      'Abf',
      'true',
    ]);
    expect(byName.structured).toMatchObject({ returned: 4, total: 4, truncated: false });
    const byId = await t.server.call('powerbi_list_datasets', {
      workspace: SALES_WS,
      name_contains: 'model',
      top: 2,
    });
    expect(byId.text.split('\n')[0]).toBe(
      `2 of 3 semantic models in workspace ${SALES_WS} whose name contains 'model' (truncated; raise top or use name_contains).`,
    );
  });
});

describe('powerbi_get_dataset_schema', () => {
  it('reads tables, columns, measures and relationships through INFO.VIEW, then serves it from the cache', async () => {
    const before = queries();
    const call = await t.server.call('powerbi_get_dataset_schema', at);
    expect(call.isError).toBe(false);
    expect(queries() - before).toBe(4);
    const lines = call.text.split('\n');
    expect(lines[0]).toBe('# Schema of dataset «Sales Model» in workspace «Sales Analytics»');
    expect(lines[1]).toBe(
      "3 tables, 10 columns, 4 measures, 2 relationships; read with the INFO.VIEW functions. In DAX write columns as 'Table'[Column] and measures as [Measure].",
    );
    expect(lines[2]).toBe('6 hidden tables, columns or measures left out (include_hidden: true shows them).');
    expect(call.text).toContain(
      'Columns: Name (String); Region (String) "Sales region of the customer."; Segment (String)',
    );
    expect(call.text).toContain(
      '- [Average Order] = DIVIDE([Total Sales], [Order Count]) (format #,0.00) "Net sales per order line."',
    );
    expect(call.text).toContain("- 'Sales'[CustomerKey] many-to-one 'Customer'[CustomerKey]");
    expect(call.structured).toMatchObject({
      source: 'INFO.VIEW',
      cached: false,
      truncated: false,
      notes: [],
    });

    const again = await t.server.call('powerbi_get_dataset_schema', {
      ...at,
      include_hidden: true,
      tables: ['sales'],
    });
    expect(queries() - before).toBe(4);
    expect(again.text.split('\n')[0]).toMatch(
      /^# Schema of dataset «Sales Model» in workspace «Sales Analytics» \(cached \d+ s ago\)$/,
    );
    expect(again.structured).toMatchObject({ table_count: 1 });
    expect(again.text.split('\n')[1]).toMatch(/^1 table, /);
    expect(again.text).toContain(
      '- [Discounted Lines] = COUNTROWS(FILTER(Sales, Sales[Discount] > 0)) (hidden)',
    );
  });

  it('falls back to COLUMNSTATISTICS() when the INFO.VIEW functions are refused', async () => {
    t.world.pbi.settings.refuseInfoView = true;
    try {
      const call = await t.server.call('powerbi_get_dataset_schema', { ...at, bypass_cache: true });
      expect(call.isError).toBe(false);
      expect(call.structured).toMatchObject({ source: 'COLUMNSTATISTICS', relationship_count: 0 });
      expect(call.text).toContain(
        "Note: The INFO.VIEW functions were refused (The DAX query failed at line 1, column 10: «The user does not have permission to call the INFO.VIEW.TABLES function.»), so this comes from COLUMNSTATISTICS(): types are guessed from each column's min and max, and measures, descriptions, hidden flags and relationships are unknown.",
      );
      expect(call.text).toContain('Quantity (Int64 (guessed), 10 distinct, 1…10)');
      expect(call.text).not.toContain('RowNumber-');
    } finally {
      t.world.pbi.settings.refuseInfoView = false;
      // The fallback schema is cached like any other: read the full one again for the tests after this.
      await t.server.call('powerbi_get_dataset_schema', { ...at, bypass_cache: true });
    }
  });
});

describe('powerbi_execute_dax', () => {
  it('returns an aggregate as CSV and structuredContent, equal to the model computed by hand', async () => {
    const call = await t.server.call('powerbi_execute_dax', {
      ...at,
      query: 'EVALUATE SUMMARIZECOLUMNS(Product[Category], "Units", [Units]) ORDER BY Product[Category]',
    });
    expect(call.isError).toBe(false);
    const category = new Map(model.tables[1]!.rows.map((p) => [p.ProductKey, p.Category as string]));
    const units = new Map<string, number>();
    for (const r of model.tables[2]!.rows)
      units.set(
        category.get(r.ProductKey)!,
        (units.get(category.get(r.ProductKey)!) ?? 0) + (r.Quantity as number),
      );
    const expected = [...units.entries()].sort(([a], [b]) => a.localeCompare(b));
    expect(call.structured).toEqual({
      row_count: 4,
      returned: 4,
      truncated: false,
      partial: false,
    });
    expect(call.text.split('\n')[0]).toBe(
      '4 rows from dataset «Sales Model» in workspace «Sales Analytics».',
    );
    expect(call.text).toContain(
      `Product[Category],[Units]\n${expected.map(([c, n]) => `${c},${n}`).join('\n')}\n[END UNTRUSTED`,
    );
    const body = JSON.parse(t.world.pbi.service.requestsTo(/executeQueries$/, 'POST').at(-1)!.body);
    expect(body).toEqual({
      queries: [
        {
          query: 'EVALUATE SUMMARIZECOLUMNS(Product[Category], "Units", [Units]) ORDER BY Product[Category]',
        },
      ],
      serializerSettings: { includeNulls: true },
    });
  });

  it('caps rows at max_rows and says how many exist', async () => {
    const call = await t.server.call('powerbi_execute_dax', { ...at, query: "EVALUATE 'Sales'" });
    expect(call.text.split('\n')[0]).toBe(
      '200 of 1,000 rows from dataset «Sales Model» in workspace «Sales Analytics» (truncated; raise max_rows or use spill: true for all rows).',
    );
    expect(call.structured).toMatchObject({
      row_count: 1000,
      returned: 200,
      truncated: true,
      partial: false,
    });
    expect(rowsOf(call).length).toBe(200);
    const few = await t.server.call('powerbi_execute_dax', {
      ...at,
      query: "EVALUATE 'Sales'",
      max_rows: 3,
      include_nulls: false,
    });
    expect(few.structured).toMatchObject({ returned: 3, truncated: true });
    expect(
      JSON.parse(t.world.pbi.service.requestsTo(/executeQueries$/, 'POST').at(-1)!.body).serializerSettings,
    ).toEqual({ includeNulls: false });
    // Without nulls a row misses its blank columns: the column set is the union, blanks are empty cells.
    expect(tableOf(few).columns).toContain('Sales[Discount]');
  });

  it('passes impersonated_user through', async () => {
    await t.server.call('powerbi_execute_dax', {
      ...at,
      query: 'EVALUATE ROW("n", [Order Count])',
      impersonated_user: 'bob@contoso.com',
    });
    expect(t.world.pbi.queries.at(-1)).toMatchObject({
      impersonatedUserName: 'bob@contoso.com',
      query: 'EVALUATE ROW("n", [Order Count])',
    });
  });

  it('spills the whole result to a CSV file and returns its path with a preview', async () => {
    const call = await t.server.call('powerbi_execute_dax', {
      ...at,
      query: "EVALUATE 'Sales' ORDER BY Sales[SalesKey]",
      spill: true,
    });
    expect(call.isError).toBe(false);
    const path = call.structured!.spill_path as string;
    expect(path.startsWith(`${t.server.env.SWITCHYARD_DATA_DIR}/spill/powerbi-mcp/`)).toBe(true);
    expect(call.text.split('\n')[0]).toBe(
      `Wrote all 1,000 rows (${Math.ceil((call.structured!.spill_bytes as number) / 1024)} KB) of the result from dataset «Sales Model» in workspace «Sales Analytics» to ${path}. Preview of the first 20 rows:`,
    );
    expect(call.structured).toMatchObject({ row_count: 1000, returned: 20, truncated: true });
    const csv = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(csv).toHaveLength(1001);
    expect(csv[0]).toBe(
      'Sales[SalesKey],Sales[OrderDate],Sales[CustomerKey],Sales[ProductKey],Sales[Quantity],Sales[Discount],Sales[Amount]',
    );
    const last = model.tables[2]!.rows[999]!;
    expect(csv[1000]).toBe(
      [
        1000,
        last.OrderDate,
        last.CustomerKey,
        last.ProductKey,
        last.Quantity,
        last.Discount ?? '',
        last.Amount,
      ].join(','),
    );
  });
});

describe('powerbi_list_reports', () => {
  it('lists reports with their pages in page order', async () => {
    const call = await t.server.call('powerbi_list_reports', {
      workspace: 'Sales Analytics',
      include_pages: true,
    });
    expect(call.text.split('\n')[0]).toBe('2 reports in workspace «Sales Analytics».');
    expect(call.text).toContain(
      `${guid(1, 3)},Sales Overview,${SALES_MODEL},PowerBIReport,https://app.powerbi.com/groups/${SALES_WS}/reports/${guid(1, 3)},Overview; By Region; Details`,
    );
    expect(call.structured).toMatchObject({ returned: 2, total: 2, truncated: false });
    const plain = await t.server.call('powerbi_list_reports', {
      workspace: SALES_WS,
      name_contains: 'drill',
    });
    expect(plain.text).toContain(
      `${guid(2, 3)},Customer Drilldown,${SALES_MODEL},PowerBIReport,https://app.powerbi.com/groups/${SALES_WS}/reports/${guid(2, 3)}\n`,
    );
    expect(rowsOf(plain)).toEqual([
      [
        guid(2, 3),
        'Customer Drilldown',
        SALES_MODEL,
        'PowerBIReport',
        `https://app.powerbi.com/groups/${SALES_WS}/reports/${guid(2, 3)}`,
      ],
    ]);
  });
});

describe('refreshes', () => {
  it('shows the history with failure reasons decoded from serviceExceptionJson', async () => {
    const call = await t.server.call('powerbi_get_refresh_history', {
      workspace: 'Sales Analytics',
      dataset: 'Restricted Model',
      top: 3,
    });
    expect(call.text.split('\n')[0]).toMatch(
      /^Last 3 refreshes of dataset «Restricted Model» in workspace «Sales Analytics»: 1 failed; last success ended \S+\.$/,
    );
    expect(call.structured).toMatchObject({ returned: 3, failed: 1 });
    const failed = rowsOf(call)[1]!;
    expect(failed.slice(1, 3)).toEqual(['Scheduled', 'failed']);
    expect(failed[4]).toBe('120');
    expect(failed[5]).toBe(
      'DMTS_DatasourceHasNoCredentialError: a data source has no stored credentials: set them in the dataset settings (Data source credentials) — Data source error: The credentials provided for the SQL source are invalid.',
    );
    expect(t.world.pbi.service.requestsTo(/refreshes$/, 'GET').at(-1)!.query.$top).toBe('3');
  });

  it('starts a refresh and returns at once', async () => {
    const before = t.world.pbi.dataset('Sales Analytics', 'Sales Model').refreshes.length;
    const call = await t.server.call('powerbi_refresh_dataset', at);
    expect(call.isError).toBe(false);
    const started = t.world.pbi.dataset('Sales Analytics', 'Sales Model').refreshes[0]!;
    expect(t.world.pbi.dataset('Sales Analytics', 'Sales Model').refreshes).toHaveLength(before + 1);
    expect(call.text).toBe(
      `Started a refresh of dataset «Sales Model» in workspace «Sales Analytics» (request id ${started.requestId}). It runs in Power BI; follow it with powerbi_get_refresh_history.`,
    );
    expect(call.structured).toEqual({
      workspace_id: SALES_WS,
      dataset_id: SALES_MODEL,
      request_id: started.requestId,
      status: 'started',
    });
    // A service principal may not ask for mail notifications: none is sent.
    expect(JSON.parse(t.world.pbi.service.requestsTo(/refreshes$/, 'POST').at(-1)!.body)).toEqual({});
  });

  it('waits for a refresh with progress notifications and reports a failure with its reason', async () => {
    t.world.pbi.settings.nextRefreshFailure = JSON.stringify({
      error: {
        code: 'ModelRefresh_ShortMessage_ProcessingError',
        'pbi.error': {
          code: 'ModelRefresh_ShortMessage_ProcessingError',
          details: [
            { code: 'Message', detail: { type: 1, value: "Column 'Amount' contains a text value." } },
          ],
        },
      },
    });
    const progress: Array<{ progress: number; total?: number; message?: string }> = [];
    const call = await t.server.call(
      'powerbi_refresh_dataset',
      { ...at, wait: true, timeout_seconds: 60 },
      { onProgress: (p) => progress.push(p) },
    );
    expect(call.isError).toBe(false);
    expect(call.text.split('\n')[0]).toBe(
      'The refresh of dataset «Sales Model» in workspace «Sales Analytics» failed (ModelRefresh_ShortMessage_ProcessingError).',
    );
    expect(call.text).toContain(
      "the model failed while processing the data — Column 'Amount' contains a text value.",
    );
    expect(call.structured).toMatchObject({
      status: 'failed',
      error_code: 'ModelRefresh_ShortMessage_ProcessingError',
    });
    // The SDK client handles a notification after a response that arrives with it: no final progress is sent.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatchObject({
      progress: 0,
      total: 60,
      message: 'refresh of «Sales Model» started',
    });
    expect(progress[1]).toMatchObject({ progress: 1, total: 60, message: 'refresh in progress after 1 s' });
    for (let i = 1; i < progress.length; i++)
      expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
  });

  it('stops waiting at the timeout and says the refresh goes on', async () => {
    t.world.pbi.settings.refreshMs = 60_000;
    try {
      const call = await t.server.call('powerbi_refresh_dataset', { ...at, wait: true, timeout_seconds: 5 });
      expect(call.text).toMatch(
        /^The refresh of dataset «Sales Model» in workspace «Sales Analytics» is still running after \d+ s; it goes on in Power BI\. Follow it with powerbi_get_refresh_history\.$/,
      );
      expect(call.structured).toMatchObject({ status: 'in progress' });
    } finally {
      t.world.pbi.settings.refreshMs = 1500;
    }
  });

  describe('when Power BI returns no request id', () => {
    const history = () => t.world.pbi.dataset('Sales Analytics', 'Sales Model').refreshes;
    beforeEach(() => {
      // At the top of the history: an older refresh that completed a moment ago (and none started by
      // the tests before, which would be seconds old: within the clock skew the tool allows).
      const older = history().filter((r) => r.refreshType !== 'ViaApi');
      history().splice(
        0,
        Infinity,
        {
          requestId: guid(99, 9),
          id: 99,
          refreshType: 'OnDemand',
          startTime: new Date(Date.now() - 20_000).toISOString(),
          finishesAt: Date.now() - 10_000,
          outcome: 'Completed',
        },
        ...older,
      );
      t.world.pbi.settings.omitRefreshRequestId = true;
    });
    afterEach(() => {
      t.world.pbi.settings.omitRefreshRequestId = false;
      t.world.pbi.settings.refreshListedAfterMs = 0;
      t.world.pbi.settings.nextRefreshFailure = undefined;
    });

    it('follows the refresh it started once the history lists it, not the older one on top', async () => {
      // The new refresh is listed only after the first poll, and fails; the older one completed.
      t.world.pbi.settings.refreshListedAfterMs = 2_000;
      t.world.pbi.settings.nextRefreshFailure = JSON.stringify({
        errorCode: 'DM_GWPipeline_Client_GatewayUnreachable',
        errorDescription: 'The gateway is offline.',
      });
      const call = await t.server.call('powerbi_refresh_dataset', { ...at, wait: true, timeout_seconds: 30 });
      expect(call.isError).toBe(false);
      expect(call.text.split('\n')[0]).toBe(
        'The refresh of dataset «Sales Model» in workspace «Sales Analytics» failed (DM_GWPipeline_Client_GatewayUnreachable).',
      );
      expect(call.structured).toMatchObject({
        status: 'failed',
        error_code: 'DM_GWPipeline_Client_GatewayUnreachable',
      });
      expect(call.structured!.request_id).toBeUndefined();
      expect(history()[0]!.refreshType).toBe('ViaApi');
    });

    it('says the refresh was accepted but not identified, instead of the older refresh’s outcome', async () => {
      t.world.pbi.settings.refreshListedAfterMs = 60_000;
      const call = await t.server.call('powerbi_refresh_dataset', { ...at, wait: true, timeout_seconds: 5 });
      expect(call.isError).toBe(false);
      expect(call.text).toMatch(
        /^Power BI accepted the refresh of dataset «Sales Model» in workspace «Sales Analytics», but it could not be identified after \d+ s: Power BI returned no request id and no refresh started since then is in the refresh history yet\. Check its outcome with powerbi_get_refresh_history \(look for a refresh started at or after \S+\)\.$/,
      );
      expect(call.text).not.toContain('completed');
      expect(call.structured).toMatchObject({
        status: 'accepted',
        workspace_id: SALES_WS,
        dataset_id: SALES_MODEL,
      });
      expect(call.structured!.request_id).toBeUndefined();
    });
  });
});

describe('resources and prompts', () => {
  it('offers the schema template, lists reachable datasets (bounded) and reads one as markdown', async () => {
    const { resourceTemplates } = await t.server.client.listResourceTemplates();
    expect(resourceTemplates).toEqual([
      expect.objectContaining({
        uriTemplate: 'powerbi://workspaces/{workspace_id}/datasets/{dataset_id}/schema',
        name: 'powerbi_dataset_schema',
        mimeType: 'text/markdown',
      }),
    ]);
    const { resources } = await t.server.client.listResources();
    expect(resources.map((r) => r.name)).toEqual([
      'Sales Analytics / Sales Model',
      'Sales Analytics / Sales Model (RLS)',
      'Sales Analytics / Restricted Model',
      'Sales Analytics / Live Connection',
      'toolsets',
    ]);
    expect(t.world.pbi.service.requestsTo(/\/groups$/, 'GET').at(-1)!.query.$top).toBe('5');
    const read = await t.server.client.readResource({ uri: resources[0]!.uri });
    const content = read.contents[0] as { text: string; mimeType: string };
    expect(content.mimeType).toBe('text/markdown');
    expect(content.text.split('\n')[0]).toBe(`# Schema of dataset ${SALES_MODEL} in workspace ${SALES_WS}`);
    expect(content.text).toContain('CustomerKey (Int64, hidden)');
    const byName = await t.server.client.readResource({
      uri: 'powerbi://workspaces/Sales%20Analytics/datasets/Sales%20Model/schema',
    });
    expect((byName.contents[0] as { text: string }).text).toContain('[Total Sales] = SUM(Sales[Amount])');
  });

  it('has the business analyst and explore prompts', async () => {
    const { prompts } = await t.server.client.listPrompts();
    expect(prompts.map((p) => [p.name, p.arguments?.map((a) => [a.name, a.required])])).toEqual([
      [
        'powerbi_business_analyst',
        [
          ['question', true],
          ['workspace', false],
        ],
      ],
      [
        'powerbi_explore_dataset',
        [
          ['workspace', true],
          ['dataset', true],
        ],
      ],
    ]);
    const got = await t.server.client.getPrompt({
      name: 'powerbi_business_analyst',
      arguments: { question: 'Which region grew fastest?' },
    });
    const text = (got.messages[0]!.content as { text: string }).text;
    expect(text).toContain('Answer this question from the data: Which region grew fastest?');
    for (const step of [
      'powerbi_list_workspaces',
      'powerbi_get_dataset_schema',
      'powerbi_execute_dax',
      'Executive summary',
      'Trends',
      'Anomalies',
    ])
      expect(text).toContain(step);
  });
});

describe('modes', () => {
  it('leaves the refresh tool out in --read-only, and serves only the asked toolsets', async () => {
    const ro = await spawnServer(bin, { env: hostEnv(t.world), args: ['--read-only'] });
    try {
      const { tools } = await ro.client.listTools();
      expect(tools.map((t) => t.name)).not.toContain('powerbi_refresh_dataset');
      expect(tools).toHaveLength(6);
    } finally {
      await ro.close();
    }
    const dax = await spawnServer(bin, { env: { ...hostEnv(t.world), POWERBI_TOOLSETS: 'dax,refresh' } });
    try {
      expect((await dax.client.listTools()).tools.map((t) => t.name)).toEqual([
        'powerbi_execute_dax',
        'powerbi_get_refresh_history',
        'powerbi_refresh_dataset',
      ]);
    } finally {
      await dax.close();
    }
  });
});
