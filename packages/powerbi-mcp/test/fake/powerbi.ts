/**
 * A local fake of the Power BI REST API (`/v1.0/myorg`), on testkit's FakeService, for tests and the
 * bench. It holds state (workspaces, members and roles, datasets with a real semantic model, reports and
 * pages, refresh history) and answers:
 *
 *   GET  /groups[?$filter=contains(name,'x') | name eq 'x'][&$top][&$skip]
 *   GET  /groups/{g}/datasets, /groups/{g}/datasets/{d}
 *   POST /groups/{g}/datasets/{d}/executeQueries   (the DAX subset of ./dax.ts)
 *   GET  /groups/{g}/datasets/{d}/refreshes[?$top], POST (202 + Location + RequestId, or neither)
 *   GET  /groups/{g}/reports, /groups/{g}/reports/{r}/pages
 *
 * Bearer tokens are checked with FakeAuthority.check and their audience. Error shapes follow the API
 * reference notes: DAX errors are 400 `DatasetExecuteQueriesError` with `pbi.error` details; an
 * overrun row or value limit is HTTP 200 with partial rows and an `error` on the table; an invalid or
 * expired token is 403 with an empty body and `x-powerbi-error-info`; no workspace access is 401
 * `GroupNotAccessible`; a missing Build permission is 404 `PowerBIEntityNotFound`; more than
 * `queriesPerMinute` queries a minute per caller is 429 with `Retry-After`. Modelled where the reference
 * is silent: the executeQueries tenant setting off, a service principal on an RLS dataset and a caller
 * without write permission get 401 `PowerBINotAuthorizedException` (the server tells them apart by
 * reading the dataset).
 */
import { randomUUID } from 'node:crypto';
import {
  FakeService,
  type FakeAuthority,
  type FakeReply,
  type FakeRequest,
  type IssuedToken,
} from '@switchyard/testkit';
import { DaxError, evaluate } from './dax.js';
import { salesModel, type SemanticModel } from './model.js';

export type Role = 'Admin' | 'Member' | 'Contributor' | 'Viewer';

export interface FakeRefresh {
  requestId: string;
  id: number;
  refreshType: string;
  startTime: string;
  /** When the refresh finishes (ms since epoch); before that its status is Unknown. */
  finishesAt: number;
  outcome: 'Completed' | 'Failed' | 'Disabled';
  serviceExceptionJson?: string;
  /** When the history starts to list it (ms since epoch); absent: at once. */
  listedAt?: number;
}

export interface FakeDataset {
  id: string;
  name: string;
  configuredBy: string;
  isRefreshable: boolean;
  targetStorageMode: string;
  createdDate: string;
  /** Row-level security: service principals may not query it. */
  rls: boolean;
  /** Who has Build without a Contributor role: principals, or '*' for every workspace member. */
  build: string[] | '*';
  model: SemanticModel;
  refreshes: FakeRefresh[];
}

export interface FakeReport {
  id: string;
  name: string;
  datasetId: string;
  pages: Array<{ name: string; displayName: string; order: number }>;
}

export interface FakeWorkspace {
  id: string;
  name: string;
  isOnDedicatedCapacity: boolean;
  members: Map<string, Role>;
  datasets: FakeDataset[];
  reports: FakeReport[];
}

export interface FakeSettings {
  /** Tenant setting "Dataset Execute Queries REST API". */
  executeQueriesEnabled: boolean;
  /** Tenant setting "Service principals can call Fabric public APIs". */
  servicePrincipalsEnabled: boolean;
  /** Refuse INFO.VIEW.* (the server then falls back to COLUMNSTATISTICS()). */
  refuseInfoView: boolean;
  maxRows: number;
  maxValues: number;
  queriesPerMinute: number;
  /** How long a started refresh stays in progress. */
  refreshMs: number;
  /** The serviceExceptionJson of the next refresh, which then fails; undefined: it completes. */
  nextRefreshFailure: string | undefined;
  /** Answer a started refresh without its request id (no RequestId header, no Location). */
  omitRefreshRequestId: boolean;
  /** How long a started refresh stays out of the history (Power BI can list it late). */
  refreshListedAfterMs: number;
  /** Refuse every token (403 TokenExpired), as after a revocation. */
  refuseAllTokens: boolean;
}

/** Deterministic GUIDs: the same ids every run. */
export function guid(n: number, kind = 0): string {
  const hex = (n + kind * 0x10000).toString(16).padStart(12, '0');
  return `${kind.toString(16).padStart(8, '0')}-0000-4000-8000-${hex}`;
}

const CREDENTIALS_FAILURE = JSON.stringify({
  errorCode: 'DMTS_DatasourceHasNoCredentialError',
  errorDescription: 'Data source error: The credentials provided for the SQL source are invalid.',
});

export class FakePowerBi {
  readonly service: FakeService;
  readonly workspaces: FakeWorkspace[] = [];
  readonly settings: FakeSettings = {
    executeQueriesEnabled: true,
    servicePrincipalsEnabled: true,
    refuseInfoView: false,
    maxRows: 100_000,
    maxValues: 1_000_000,
    queriesPerMinute: 120,
    refreshMs: 1500,
    nextRefreshFailure: undefined,
    omitRefreshRequestId: false,
    refreshListedAfterMs: 0,
    refuseAllTokens: false,
  };
  /** Tokens refused once each (then forgotten), to make the server fetch a new one. */
  readonly refuseOnce = new Set<string>();
  /** executeQueries calls seen, with the principal and the query. */
  readonly queries: Array<{ principal: string; query: string; impersonatedUserName?: string }> = [];
  private readonly queryTimes = new Map<string, number[]>();
  private refreshCounter = 100;

  private constructor(
    service: FakeService,
    private readonly authority: FakeAuthority,
    readonly audience: string,
  ) {
    this.service = service;
  }

  static async start(authority: FakeAuthority, options: { audience?: string } = {}): Promise<FakePowerBi> {
    const service = await FakeService.start('fake Power BI');
    const fake = new FakePowerBi(
      service,
      authority,
      options.audience ?? 'https://analysis.windows.net/powerbi/api',
    );
    fake.seed();
    fake.install();
    return fake;
  }

  /** The value for POWERBI_API_URL. */
  get apiUrl(): string {
    return `${this.service.url}/v1.0/myorg`;
  }

  close(): Promise<void> {
    return this.service.close();
  }

  workspace(name: string): FakeWorkspace {
    const w = this.workspaces.find((x) => x.name === name);
    if (!w) throw new Error(`no fake workspace ${name}`);
    return w;
  }

  dataset(workspace: string, name: string): FakeDataset {
    const d = this.workspace(workspace).datasets.find((x) => x.name === name);
    if (!d) throw new Error(`no fake dataset ${name}`);
    return d;
  }

  /** Give a principal (an app's client id or a user's UPN) a role in workspaces (all but Finance by default). */
  grant(principal: string, role: Role, workspaces?: string[]): this {
    for (const w of this.workspaces) {
      if (workspaces ? workspaces.includes(w.name) : w.name !== 'Finance') w.members.set(principal, role);
    }
    return this;
  }

  /** Make every token issued so far fail once with 403 TokenExpired. */
  expireIssuedTokens(): void {
    for (const token of this.authority.issued.keys()) this.refuseOnce.add(token);
  }

  private seed(): void {
    const model = salesModel();
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const history = (): FakeRefresh[] => [
      {
        requestId: guid(3, 9),
        id: 3,
        refreshType: 'Scheduled',
        startTime: iso(now - 3_600_000),
        finishesAt: now - 3_540_000,
        outcome: 'Completed',
      },
      {
        requestId: guid(2, 9),
        id: 2,
        refreshType: 'Scheduled',
        startTime: iso(now - 90_000_000),
        finishesAt: now - 89_880_000,
        outcome: 'Failed',
        serviceExceptionJson: CREDENTIALS_FAILURE,
      },
      {
        requestId: guid(1, 9),
        id: 1,
        refreshType: 'OnDemand',
        startTime: iso(now - 180_000_000),
        finishesAt: now - 179_700_000,
        outcome: 'Completed',
      },
    ];
    const dataset = (n: number, name: string, extra: Partial<FakeDataset> = {}): FakeDataset => ({
      id: guid(n, 2),
      name,
      configuredBy: 'owner@contoso.com',
      isRefreshable: true,
      targetStorageMode: 'Abf',
      createdDate: '2024-01-15T09:30:00.000Z',
      rls: false,
      build: '*',
      model,
      refreshes: history(),
      ...extra,
    });
    const workspace = (n: number, name: string, extra: Partial<FakeWorkspace> = {}): FakeWorkspace => ({
      id: guid(n, 1),
      name,
      isOnDedicatedCapacity: false,
      members: new Map(),
      datasets: [],
      reports: [],
      ...extra,
    });
    const sales = workspace(1, 'Sales Analytics', {
      isOnDedicatedCapacity: true,
      datasets: [
        dataset(1, 'Sales Model'),
        dataset(2, 'Sales Model (RLS)', { rls: true }),
        dataset(3, 'Restricted Model', { build: [] }),
        dataset(4, 'Live Connection', { isRefreshable: false, refreshes: [] }),
      ],
      reports: [
        {
          id: guid(1, 3),
          name: 'Sales Overview',
          datasetId: guid(1, 2),
          pages: [
            { name: 'ReportSection2', displayName: 'By Region', order: 1 },
            { name: 'ReportSection1', displayName: 'Overview', order: 0 },
            { name: 'ReportSection3', displayName: 'Details', order: 2 },
          ],
        },
        {
          id: guid(2, 3),
          name: 'Customer Drilldown',
          datasetId: guid(1, 2),
          pages: [{ name: 'ReportSection1', displayName: 'Customers', order: 0 }],
        },
      ],
    });
    this.workspaces.push(
      sales,
      workspace(2, 'Finance', { datasets: [dataset(10, 'Finance Model')] }),
      workspace(3, 'Shared'),
      workspace(4, 'Shared'),
    );
    for (let i = 1; i <= 24; i++)
      this.workspaces.push(workspace(10 + i, `Team ${String(i).padStart(2, '0')}`));
  }

  private install(): void {
    const s = this.service;
    const base = '/v1.0/myorg';
    const guarded =
      (handler: (req: FakeRequest, who: Caller) => FakeReply | Promise<FakeReply>) =>
      (req: FakeRequest): FakeReply | Promise<FakeReply> => {
        const who = this.authenticate(req);
        return 'principal' in who ? handler(req, who) : who;
      };
    s.route(
      'GET',
      `${base}/groups`,
      guarded((req, who) => this.listGroups(req, who)),
    );
    s.route(
      'GET',
      `${base}/groups/:g/datasets`,
      guarded((req, who) =>
        this.inWorkspace(req, who, (w) => ({
          body: { '@odata.context': `${this.apiUrl}/$metadata#datasets`, value: w.datasets.map(datasetJson) },
        })),
      ),
    );
    s.route(
      'GET',
      `${base}/groups/:g/datasets/:d`,
      guarded((req, who) =>
        this.inWorkspace(req, who, (w) => {
          const d = w.datasets.find((x) => x.id === req.params.d);
          return d ? { body: datasetJson(d) } : notFound(req.params.d!);
        }),
      ),
    );
    s.route(
      'POST',
      `${base}/groups/:g/datasets/:d/executeQueries`,
      guarded((req, who) => this.inWorkspace(req, who, (w, role) => this.executeQueries(req, who, w, role))),
    );
    s.route(
      'GET',
      `${base}/groups/:g/datasets/:d/refreshes`,
      guarded((req, who) =>
        this.inWorkspace(req, who, (w) => {
          const d = w.datasets.find((x) => x.id === req.params.d);
          if (!d) return notFound(req.params.d!);
          const top = Number(req.query.get('$top') ?? 60);
          const now = Date.now();
          const listed = d.refreshes.filter((r) => r.listedAt === undefined || now >= r.listedAt);
          return { body: { value: listed.slice(0, top).map(refreshJson) } };
        }),
      ),
    );
    s.route(
      'POST',
      `${base}/groups/:g/datasets/:d/refreshes`,
      guarded((req, who) => this.inWorkspace(req, who, (w, role) => this.startRefresh(req, who, w, role))),
    );
    s.route(
      'GET',
      `${base}/groups/:g/reports`,
      guarded((req, who) =>
        this.inWorkspace(req, who, (w) => ({
          body: {
            value: w.reports.map((r) => ({
              id: r.id,
              reportType: 'PowerBIReport',
              name: r.name,
              webUrl: `https://app.powerbi.com/groups/${w.id}/reports/${r.id}`,
              embedUrl: `https://app.powerbi.com/reportEmbed?reportId=${r.id}&groupId=${w.id}`,
              datasetId: r.datasetId,
              datasetWorkspaceId: w.id,
            })),
          },
        })),
      ),
    );
    s.route(
      'GET',
      `${base}/groups/:g/reports/:r/pages`,
      guarded((req, who) =>
        this.inWorkspace(req, who, (w) => {
          const r = w.reports.find((x) => x.id === req.params.r);
          return r ? { body: { value: r.pages } } : { status: 404, body: pbiError('PowerBIEntityNotFound') };
        }),
      ),
    );
  }

  private authenticate(req: FakeRequest): Caller | FakeReply {
    const header = req.headers.authorization;
    const check = this.authority.check(typeof header === 'string' ? header : undefined);
    const raw = /^Bearer\s+(.+)$/i.exec(String(header ?? ''))?.[1] ?? '';
    const refuse = (info: string): FakeReply => ({
      status: 403,
      headers: { 'x-powerbi-error-info': info, requestid: randomUUID() },
      body: '',
    });
    if (!check.ok) return refuse(check.reason === 'expired' ? 'TokenExpired' : 'InvalidToken');
    if (this.settings.refuseAllTokens) return refuse('TokenExpired');
    if (this.refuseOnce.delete(raw)) return refuse('TokenExpired');
    if (check.token.audience !== this.audience) return refuse('InvalidToken');
    const token = check.token;
    const isApp = token.kind === 'app';
    if (isApp && !this.settings.servicePrincipalsEnabled)
      return { status: 401, body: pbiError('PowerBINotAuthorizedException') };
    return { principal: isApp ? token.clientId : token.username!, isApp, token };
  }

  private listGroups(req: FakeRequest, who: Caller): FakeReply {
    let list = this.workspaces.filter((w) => w.members.has(who.principal));
    const filter = req.query.get('$filter');
    if (filter) {
      const contains = /^contains\(name,\s*'((?:[^']|'')*)'\)$/i.exec(filter);
      const eq = /^name eq '((?:[^']|'')*)'$/i.exec(filter);
      if (!contains && !eq)
        return {
          status: 400,
          body: { error: { code: 'InvalidRequest', message: `The fake supports no $filter '${filter}'` } },
        };
      const value = (contains ?? eq)![1]!.replace(/''/g, "'");
      list = list.filter((w) =>
        contains ? w.name.toLowerCase().includes(value.toLowerCase()) : w.name === value,
      );
    }
    const skip = Number(req.query.get('$skip') ?? 0);
    const top = Math.min(Number(req.query.get('$top') ?? 5000), 5000);
    const page = list.slice(skip, skip + top);
    return {
      headers: { requestid: randomUUID() },
      body: {
        '@odata.context': `${this.apiUrl}/$metadata#groups`,
        '@odata.count': page.length,
        value: page.map((w) => ({
          id: w.id,
          isReadOnly: false,
          isOnDedicatedCapacity: w.isOnDedicatedCapacity,
          ...(w.isOnDedicatedCapacity ? { capacityId: guid(1, 7) } : {}),
          type: 'Workspace',
          name: w.name,
        })),
      },
    };
  }

  private inWorkspace(
    req: FakeRequest,
    who: Caller,
    handler: (w: FakeWorkspace, role: Role) => FakeReply | Promise<FakeReply>,
  ): FakeReply | Promise<FakeReply> {
    const w = this.workspaces.find((x) => x.id === req.params.g);
    const role = w?.members.get(who.principal);
    if (!w || !role)
      return { status: 401, headers: { requestid: randomUUID() }, body: pbiError('GroupNotAccessible') };
    return handler(w, role);
  }

  private executeQueries(req: FakeRequest, who: Caller, w: FakeWorkspace, role: Role): FakeReply {
    const requestId = randomUUID();
    const headers = { requestid: requestId };
    if (!this.settings.executeQueriesEnabled)
      return { status: 401, headers, body: pbiError('PowerBINotAuthorizedException') };
    const d = w.datasets.find((x) => x.id === req.params.d);
    const canBuild = role !== 'Viewer' || (d && (d.build === '*' || d.build.includes(who.principal)));
    if (!d || !canBuild) return { status: 404, headers, body: pbiError('PowerBIEntityNotFound') };
    if (d.rls && who.isApp) return { status: 401, headers, body: pbiError('PowerBINotAuthorizedException') };

    const now = Date.now();
    const times = (this.queryTimes.get(who.principal) ?? []).filter((t) => t > now - 60_000);
    if (times.length >= this.settings.queriesPerMinute) {
      const retryAfter = Math.max(1, Math.ceil((times[0]! + 60_000 - now) / 1000));
      return { status: 429, headers: { ...headers, 'retry-after': String(retryAfter) }, body: '' };
    }
    times.push(now);
    this.queryTimes.set(who.principal, times);

    const body = req.json<{
      queries?: Array<{ query?: string }>;
      serializerSettings?: { includeNulls?: boolean };
      impersonatedUserName?: string;
    }>();
    if (!body?.queries || body.queries.length !== 1 || typeof body.queries[0]!.query !== 'string') {
      return {
        status: 400,
        headers,
        body: { error: { code: 'InvalidRequest', message: 'Exactly one query is allowed per request.' } },
      };
    }
    const query = body.queries[0]!.query!;
    this.queries.push({
      principal: who.principal,
      query,
      ...(body.impersonatedUserName ? { impersonatedUserName: body.impersonatedUserName } : {}),
    });
    let output;
    try {
      output = evaluate(d.model, query, {
        hideMeasureExpressions: role === 'Viewer',
        refuseInfoView: this.settings.refuseInfoView,
      });
    } catch (err) {
      if (!(err instanceof DaxError)) throw err;
      return {
        status: 400,
        headers,
        body: {
          error: {
            code: 'DatasetExecuteQueriesError',
            'pbi.error': {
              code: 'DatasetExecuteQueriesError',
              parameters: {},
              details: [
                { code: 'DetailsMessage', detail: { type: 1, value: err.message } },
                { code: 'AnalysisServicesErrorCode', detail: { type: 1, value: err.errorCode } },
              ],
              exceptionCulprit: 1,
            },
          },
        },
      };
    }
    const includeNulls = body.serializerSettings?.includeNulls === true;
    const width = Math.max(1, output.columns.length);
    const limit = Math.min(this.settings.maxRows, Math.floor(this.settings.maxValues / width));
    const rows = output.rows
      .slice(0, limit)
      .map((row) =>
        includeNulls ? row : Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)),
      );
    const table: Record<string, unknown> = { rows };
    if (output.rows.length > limit) {
      table.error = {
        code: 'DatasetExecuteQueriesError',
        message:
          limit === this.settings.maxRows
            ? `More than ${this.settings.maxRows} rows in a query result`
            : `More than ${this.settings.maxValues} values in a query result`,
      };
    }
    return { headers, body: { results: [{ tables: [table] }] } };
  }

  private startRefresh(req: FakeRequest, who: Caller, w: FakeWorkspace, role: Role): FakeReply {
    const headers = { requestid: randomUUID() };
    const d = w.datasets.find((x) => x.id === req.params.d);
    if (!d) return notFound(req.params.d!);
    const canWrite = !who.isApp ? who.token.scopes.includes('Dataset.ReadWrite.All') : true;
    if (role === 'Viewer' || !canWrite)
      return { status: 401, headers, body: pbiError('PowerBINotAuthorizedException') };
    const body = req.json<{ notifyOption?: string } | undefined>();
    if (who.isApp && body?.notifyOption && body.notifyOption !== 'NoNotification') {
      return {
        status: 400,
        headers,
        body: {
          error: {
            code: 'InvalidRequest',
            message: `Invalid NotifyOption value '${body.notifyOption}' for app only owner requests`,
          },
        },
      };
    }
    if (!d.isRefreshable) {
      return {
        status: 400,
        headers,
        body: {
          error: { code: 'InvalidRequest', message: 'Dataset is not refreshable: it uses a live connection' },
        },
      };
    }
    const requestId = randomUUID();
    const failure = this.settings.nextRefreshFailure;
    this.settings.nextRefreshFailure = undefined;
    d.refreshes.unshift({
      requestId,
      id: ++this.refreshCounter,
      refreshType: 'ViaApi',
      startTime: new Date().toISOString(),
      finishesAt: Date.now() + this.settings.refreshMs,
      outcome: failure ? 'Failed' : 'Completed',
      ...(failure ? { serviceExceptionJson: failure } : {}),
      ...(this.settings.refreshListedAfterMs > 0
        ? { listedAt: Date.now() + this.settings.refreshListedAfterMs }
        : {}),
    });
    if (this.settings.omitRefreshRequestId) return { status: 202 };
    return {
      status: 202,
      headers: {
        ...headers,
        requestid: requestId,
        location: `${this.apiUrl}/groups/${w.id}/datasets/${d.id}/refreshes/${requestId}`,
      },
    };
  }
}

interface Caller {
  principal: string;
  isApp: boolean;
  token: IssuedToken;
}

function pbiError(code: string): unknown {
  return { error: { code, 'pbi.error': { code, parameters: {}, details: [], exceptionCulprit: 1 } } };
}

function notFound(id: string): FakeReply {
  return {
    status: 404,
    body: {
      error: {
        code: 'ItemNotFound',
        message: `Dataset ${id} is not found! please verify datasetId is correct and user have sufficient permissions.`,
      },
    },
  };
}

function datasetJson(d: FakeDataset) {
  return {
    id: d.id,
    name: d.name,
    webUrl: `https://app.powerbi.com/datasets/${d.id}`,
    addRowsAPIEnabled: false,
    configuredBy: d.configuredBy,
    isRefreshable: d.isRefreshable,
    isEffectiveIdentityRequired: d.rls,
    isEffectiveIdentityRolesRequired: d.rls,
    isOnPremGatewayRequired: false,
    targetStorageMode: d.targetStorageMode,
    createdDate: d.createdDate,
  };
}

function refreshJson(r: FakeRefresh) {
  const done = Date.now() >= r.finishesAt;
  return {
    requestId: r.requestId,
    id: r.id,
    refreshType: r.refreshType,
    startTime: r.startTime,
    ...(done ? { endTime: new Date(r.finishesAt).toISOString() } : {}),
    status: done ? r.outcome : 'Unknown',
    ...(done && r.serviceExceptionJson ? { serviceExceptionJson: r.serviceExceptionJson } : {}),
  };
}
