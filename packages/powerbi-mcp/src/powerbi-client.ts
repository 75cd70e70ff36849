import {
  HttpClient,
  NotFoundError,
  PermissionError,
  UpstreamError,
  isSwitchyardError,
  untrusted,
  type Caller,
  type Logger,
} from '@switchyard/core';
import type { Credential, PowerBiAuth } from './auth.js';
import { DaxQueryError, capitalize, describePowerBiError, pbiDetails } from './errors.js';

export interface Workspace {
  id: string;
  name: string;
  type?: string;
  isReadOnly?: boolean;
  isOnDedicatedCapacity?: boolean;
  capacityId?: string;
}

export interface Dataset {
  id: string;
  name: string;
  configuredBy?: string;
  isRefreshable?: boolean;
  targetStorageMode?: string;
  createdDate?: string;
  webUrl?: string;
  isEffectiveIdentityRequired?: boolean;
  isEffectiveIdentityRolesRequired?: boolean;
  isOnPremGatewayRequired?: boolean;
}

export interface Report {
  id: string;
  name: string;
  datasetId?: string;
  webUrl?: string;
  reportType?: string;
}

export interface ReportPage {
  name: string;
  displayName: string;
  order?: number;
}

export interface Refresh {
  requestId?: string;
  id?: number;
  refreshType?: string;
  startTime?: string;
  endTime?: string;
  status?: string;
  serviceExceptionJson?: string;
  extendedStatus?: string;
}

export interface QueryResult {
  /** Column keys as Power BI returns them: `Table[Column]`, or `[Alias]` for computed columns. */
  columns: string[];
  rows: unknown[][];
  /** Set when Power BI answered HTTP 200 with only part of the rows and an error (a size limit). */
  partialError: string | undefined;
}

export interface QueryOptions {
  query: string;
  includeNulls: boolean;
  impersonatedUser?: string | undefined;
}

interface Session {
  credential: Credential;
  http: HttpClient;
}

/** The Power BI REST API, typed, on core's HttpClient; errors come out as one actionable sentence. */
export class PowerBiClient {
  private session: Promise<Session> | undefined;

  constructor(
    readonly auth: PowerBiAuth,
    private readonly log: Logger,
    private readonly userAgent: string,
    /** The sign-in of this client alone (a user signed in over HTTP); otherwise the server's own (`auth`). */
    private readonly own?: Credential,
  ) {}

  /**
   * A client for one call of a user signed in over HTTP: its tokens come from the on-behalf-of exchange for that
   * user, never from this server's sign-in, and it is not kept for another call or caller. `write` adds the
   * permission to start refreshes.
   */
  forCaller(caller: Caller, options: { write: boolean }): PowerBiClient {
    return new PowerBiClient(this.auth, this.log, this.userAgent, this.auth.forCaller(caller, options));
  }

  /** The sign-in and an HTTP client for its endpoints; a failed sign-in is retried on the next call. */
  connect(): Promise<Session> {
    const pending = (this.session ??= this.open());
    pending.catch(() => {
      if (this.session === pending) this.session = undefined;
    });
    return pending;
  }

  async credential(): Promise<Credential> {
    return (await this.connect()).credential;
  }

  private async open(): Promise<Session> {
    const credential = this.own ?? (await this.auth.credential());
    const http = new HttpClient({
      service: 'Power BI',
      baseUrl: credential.endpoints.apiUrl,
      userAgent: this.userAgent,
      log: this.log,
      // Core's sign-in holds the token until 5 minutes before it expires.
      auth: async ({ forceRefresh }) => ({
        authorization: `Bearer ${(await credential.token({ forceRefresh })).accessToken}`,
      }),
      // An invalid or expired token is a 403 with `x-powerbi-error-info`: fetch a new one, once.
      shouldRefreshAuth: (f) => f.status === 403 && Boolean(f.headers['x-powerbi-error-info']),
      describeError: (f) => describePowerBiError(f, credential),
    });
    return { credential, http };
  }

  private async get<T>(
    path: string,
    signal: AbortSignal | undefined,
    query?: Record<string, string | number>,
  ) {
    const { http } = await this.connect();
    return http.get<T>(path, { ...(signal ? { signal } : {}), ...(query ? { query } : {}) });
  }

  /** `GET /groups` with an optional `$filter`, `$top` and `$skip`. */
  async listWorkspaces(
    options: { filter?: string | undefined; top: number; skip?: number | undefined },
    signal?: AbortSignal,
  ): Promise<Workspace[]> {
    const query: Record<string, string | number> = { $top: options.top };
    if (options.skip) query.$skip = options.skip;
    if (options.filter) query.$filter = options.filter;
    const data = await this.get<{ value?: Workspace[] }>('/groups', signal, query);
    return data?.value ?? [];
  }

  async listDatasets(workspaceId: string, signal?: AbortSignal): Promise<Dataset[]> {
    const data = await this.get<{ value?: Dataset[] }>(`/groups/${enc(workspaceId)}/datasets`, signal);
    return data?.value ?? [];
  }

  async getDataset(workspaceId: string, datasetId: string, signal?: AbortSignal): Promise<Dataset> {
    try {
      return await this.get<Dataset>(`/groups/${enc(workspaceId)}/datasets/${enc(datasetId)}`, signal);
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new NotFoundError(
          `Workspace ${workspaceId} has no dataset ${datasetId}, or it is hidden from the caller`,
          {
            ...(err.upstream ? { upstream: err.upstream } : {}),
            hint: 'List the datasets with powerbi_list_datasets',
          },
        );
      }
      throw err;
    }
  }

  async listReports(workspaceId: string, signal?: AbortSignal): Promise<Report[]> {
    const data = await this.get<{ value?: Report[] }>(`/groups/${enc(workspaceId)}/reports`, signal);
    return data?.value ?? [];
  }

  async listPages(workspaceId: string, reportId: string, signal?: AbortSignal): Promise<ReportPage[]> {
    const data = await this.get<{ value?: ReportPage[] }>(
      `/groups/${enc(workspaceId)}/reports/${enc(reportId)}/pages`,
      signal,
    );
    return data?.value ?? [];
  }

  async refreshHistory(
    workspaceId: string,
    datasetId: string,
    top: number,
    signal?: AbortSignal,
  ): Promise<Refresh[]> {
    const data = await this.get<{ value?: Refresh[] }>(
      `/groups/${enc(workspaceId)}/datasets/${enc(datasetId)}/refreshes`,
      signal,
      { $top: top },
    );
    return data?.value ?? [];
  }

  /** Start a refresh; returns the id Power BI gives it (the `requestId` of its history entry). */
  async startRefresh(
    workspaceId: string,
    datasetId: string,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const { http, credential } = await this.connect();
    // Mail notifications are not allowed for service principals; users get none either (the model reports).
    const body = credential.isServicePrincipal ? {} : { notifyOption: 'NoNotification' };
    const res = await http.request<undefined>({
      method: 'POST',
      path: `/groups/${enc(workspaceId)}/datasets/${enc(datasetId)}/refreshes`,
      json: body,
      responseType: 'none',
      ...(signal ? { signal } : {}),
    });
    const location = res.headers.location;
    const fromLocation = location ? /\/refreshes\/([^/?]+)/.exec(location)?.[1] : undefined;
    return fromLocation ?? res.headers['requestid'] ?? res.headers['x-ms-request-id'] ?? res.requestId;
  }

  /** One DAX query through executeQueries. */
  async executeQuery(
    workspaceId: string,
    datasetId: string,
    options: QueryOptions,
    signal?: AbortSignal,
  ): Promise<QueryResult> {
    const { http } = await this.connect();
    const body = {
      queries: [{ query: options.query }],
      serializerSettings: { includeNulls: options.includeNulls },
      ...(options.impersonatedUser ? { impersonatedUserName: options.impersonatedUser } : {}),
    };
    let data: unknown;
    try {
      data = await http.post(`/groups/${enc(workspaceId)}/datasets/${enc(datasetId)}/executeQueries`, body, {
        // A query changes nothing: safe to retry after a dropped connection or a 503.
        idempotent: true,
        timeoutMs: 120_000,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      throw await this.explainQueryFailure(err, workspaceId, datasetId, signal);
    }
    return parseQueryResponse(data);
  }

  /**
   * executeQueries answers several different problems alike (404 for a missing Build permission, 401 for
   * a tenant setting or a service principal on an RLS model): look at the dataset to say which it is.
   */
  private async explainQueryFailure(
    err: unknown,
    workspaceId: string,
    datasetId: string,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    if (!isSwitchyardError(err) || signal?.aborted) return err;
    const credential = await this.credential();
    const code = err.upstream?.code;
    const who = capitalize(credential.identity);
    const upstream = err.upstream ? { upstream: err.upstream } : {};
    const lookUp = () => this.getDataset(workspaceId, datasetId, signal);

    if (err instanceof NotFoundError && code === 'PowerBIEntityNotFound') {
      let dataset: Dataset;
      try {
        dataset = await lookUp();
      } catch (lookupError) {
        return lookupError;
      }
      return new PermissionError(
        `${who} cannot query dataset ${untrusted(dataset.name, 120)}: it lacks Build permission on it`,
        {
          ...upstream,
          hint: 'Grant Build permission on the semantic model (its ⋯ menu → Manage permissions), or a Contributor role or higher in its workspace',
        },
      );
    }
    const refused =
      (err instanceof PermissionError && code === 'PowerBINotAuthorizedException') ||
      (err instanceof DaxQueryError && err.line === undefined);
    if (!refused) return err;
    if (credential.isServicePrincipal) {
      const dataset = await lookUp().catch(() => undefined);
      if (dataset?.isEffectiveIdentityRequired) {
        return new PermissionError(
          `Power BI does not let a service principal query dataset ${untrusted(dataset.name, 120)} because it uses row-level security`,
          {
            ...upstream,
            hint: `Sign in as a user instead (${this.auth.loginCommand()}) and query as yourself or with impersonated_user; service principals cannot query RLS or SSO datasets through executeQueries, whatever the tenant settings`,
          },
        );
      }
    }
    if (err instanceof PermissionError) {
      return new PermissionError(
        `Power BI refused to run DAX for ${credential.identity}: the tenant setting 'Dataset Execute Queries REST API' is off or does not include this identity`,
        {
          ...upstream,
          hint: 'A Power BI admin can turn it on (Admin portal → Tenant settings → Integration settings); the caller also needs Read and Build permission on the dataset',
        },
      );
    }
    return err;
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

interface RawError {
  code?: string;
  message?: string;
}

function errorMessage(error: unknown): string {
  const e = error as RawError & Record<string, unknown>;
  const details = pbiDetails({ error: e });
  return details.DetailsMessage || e.message || e.code || 'an unnamed error';
}

/**
 * `{"results":[{"tables":[{"rows":[{...}]}]}]}` → columns and rows. Power BI reports an overrun limit as
 * HTTP 200 with partial rows and an `error` at the top, on the result or on the table: look at all three.
 */
export function parseQueryResponse(data: unknown): QueryResult {
  const body = (data ?? {}) as {
    error?: unknown;
    results?: Array<{
      error?: unknown;
      tables?: Array<{ rows?: Array<Record<string, unknown>>; error?: unknown }>;
    }>;
  };
  const result = body.results?.[0];
  const table = result?.tables?.[0];
  const error = table?.error ?? result?.error ?? body.error;
  if (!table && error) {
    throw new UpstreamError(`Power BI answered without rows: ${errorMessage(error)}`, {
      hint: 'Rewrite the query so that it returns one table',
    });
  }
  const objects = table?.rows ?? [];
  const index = new Map<string, number>();
  for (const row of objects)
    for (const key of Object.keys(row)) if (!index.has(key)) index.set(key, index.size);
  const columns = [...index.keys()];
  const rows = objects.map((row) => columns.map((c) => (c in row ? row[c] : null)));
  return { columns, rows, partialError: error ? errorMessage(error) : undefined };
}
