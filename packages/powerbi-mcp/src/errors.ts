import {
  AuthError,
  NotFoundError,
  PermissionError,
  plainOrUntrusted,
  UserInputError,
  untrusted,
  upstreamHttpError,
  upstreamInfo,
  type HttpErrorResponse,
} from '@switchyard/core';
import type { Credential } from './auth.js';

/** A DAX query Power BI refused (HTTP 400 with `pbi.error` details): where and why. */
export class DaxQueryError extends UserInputError {
  constructor(
    readonly detail: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
  ) {
    super(
      line !== undefined
        ? `The DAX query failed at line ${line}, column ${column}: ${untrusted(detail, 300)}`
        : `The DAX query failed: ${untrusted(detail, 300)}`,
      {
        hint: 'Check the table, column and measure names with powerbi_get_dataset_schema, fix the query and run it again',
      },
    );
  }
}

interface PbiDetail {
  code?: string;
  detail?: { type?: number; value?: string };
}

/** The `pbi.error` details of a Power BI error body, by detail code. */
export function pbiDetails(json: unknown): Record<string, string> {
  const error = (json as { error?: Record<string, unknown> } | undefined)?.error;
  const pbi = error?.['pbi.error'] as { details?: PbiDetail[] } | undefined;
  const out: Record<string, string> = {};
  for (const d of pbi?.details ?? []) {
    if (d.code && typeof d.detail?.value === 'string') out[d.code] = d.detail.value;
  }
  return out;
}

/** "Query (1, 15) The table 'Nope' cannot be found." → position and message. */
export function parseDaxMessage(value: string): { line?: number; column?: number; message: string } {
  const m = /^\s*Query\s*\((\d+),\s*(\d+)\)\s*([\s\S]*)$/.exec(value);
  if (!m) return { message: value.trim() };
  return { line: Number(m[1]), column: Number(m[2]), message: m[3]!.trim() };
}

function workspaceOf(url: string): string | undefined {
  return /\/groups\/([^/?]+)/.exec(new URL(url).pathname)?.[1];
}

/**
 * Power BI's error shapes as one actionable sentence each. Errors that need more context (which dataset,
 * whether it has row-level security) are refined by the client that made the call.
 */
export function describePowerBiError(f: HttpErrorResponse, credential: Credential): Error | undefined {
  const upstream = upstreamInfo(f);
  const tokenInfo = f.headers['x-powerbi-error-info'];
  if (f.status === 403 && tokenInfo) {
    return new AuthError(
      `Power BI refused the ${credential.method === 'supplied_token' ? 'supplied ' : ''}access token of ${credential.identity} (${plainOrUntrusted(tokenInfo, 80)})${credential.method === 'supplied_token' ? '' : ' even after a fresh one was fetched'}`,
      { upstream: { ...upstream, code: tokenInfo }, hint: credential.reauthHint },
    );
  }
  if (f.status === 400 && f.code === 'DatasetExecuteQueriesError') {
    const details = pbiDetails(f.json);
    const text = details.DetailsMessage ?? f.message ?? 'Power BI gave no reason';
    const parsed = parseDaxMessage(text);
    return new DaxQueryError(parsed.message, parsed.line, parsed.column);
  }
  if (f.status === 401 && f.code === 'GroupNotAccessible') {
    const ws = workspaceOf(f.url);
    return new PermissionError(
      `${capitalize(credential.identity)} has no access to workspace ${ws ?? '(unknown)'}`,
      {
        upstream,
        hint: credential.isServicePrincipal
          ? `Add the service principal to the workspace (Manage access → Viewer or higher; Contributor to refresh); the tenant setting 'Service principals can call Fabric public APIs' must also include it`
          : 'Ask a workspace admin to add this account to the workspace (Manage access → Viewer or higher; Contributor to refresh)',
      },
    );
  }
  if (f.status === 401 && f.code === 'PowerBINotAuthorizedException') {
    return new PermissionError(`Power BI refused the call for ${credential.identity}`, {
      upstream,
      hint: credential.isServicePrincipal
        ? `A Power BI admin must turn on 'Service principals can call Fabric public APIs' (Admin portal → Tenant settings → Developer settings) for a security group that holds the app, and the app needs a role in the workspace`
        : 'The account lacks a role or permission for this; ask a workspace admin',
    });
  }
  if (f.status === 404) {
    return new NotFoundError('Power BI has no such item, or the signed-in identity cannot see it', {
      upstream,
      hint: 'List what is reachable with powerbi_list_workspaces and powerbi_list_datasets',
    });
  }
  return upstreamHttpError(f, {
    throttledHint:
      'executeQueries allows 120 queries per minute per user: wait, then ask fewer, larger questions (one SUMMARIZECOLUMNS instead of many small queries)',
  });
}

/** "service principal x" → "Service principal x"; a UPN stays as it is. */
export function capitalize(text: string): string {
  return /^[a-z]+ /.test(text) ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}
