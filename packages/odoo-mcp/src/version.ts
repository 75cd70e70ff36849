/**
 * Which Odoo answers: the version probe made before signing in (`GET /web/version`, then JSON-RPC
 * `common.version`), what a forced protocol implies instead, and reading either shape of the answer.
 */
import { CancelledError, NotFoundError, UpstreamError, untrusted, type Logger } from '@switchyard/core';
import { OdooFaultError, quotedFirstLine, throttled } from './errors.js';
import type { OdooTransport, Protocol } from './transport.js';

/** The oldest Odoo this server speaks to. */
export const MIN_MAJOR = 16;
/** The first Odoo with the JSON-2 API and `formatted_read_group`. */
export const JSON2_MAJOR = 19;

export interface ServerVersion {
  /** As Odoo reports it, e.g. "17.0" or "saas~18.2". */
  version: string;
  major: number;
  minor: number;
  /** Not reported by the server (a forced protocol): what the protocol implies. */
  assumed?: boolean;
}

/**
 * The server version, without signing in: `GET /web/version` (Odoo 19+ answers `{version_info, version}`), and
 * when that route is missing (Odoo ≤ 18 answers 404) or answers without a version, JSON-RPC `common.version`,
 * which every Odoo serves. When neither answers like Odoo, one sentence says what each said.
 */
export async function probeVersion(wire: OdooTransport, signal?: AbortSignal): Promise<ServerVersion> {
  const host = new URL(wire.http.baseUrl).host;
  let webSaid: string;
  try {
    const text = await wire.http.get<string>('/web/version', {
      signal,
      anonymous: true,
      responseType: 'text',
    });
    const json = parseJson(text);
    const found = readVersion(json);
    if (found) return found;
    webSaid = `GET /web/version answered ${json === undefined ? 'with something that is not JSON' : 'JSON without a version'}`;
  } catch (err) {
    if (err instanceof OdooFaultError && err.fault.status === 429) {
      throw throttled('while reporting its version', err.fault.retryAfterSeconds);
    }
    if (err instanceof OdooFaultError) {
      const status = err.fault.status ? ` (HTTP ${err.fault.status})` : '';
      throw new UpstreamError(
        `Odoo failed on its side${status} while reporting its version${err.fault.message ? `: ${untrusted(err.fault.message, 300)}` : ''}`,
        { hint: 'Try again in a moment' },
      );
    }
    if (!(err instanceof NotFoundError)) throw err;
    webSaid = 'GET /web/version answered 404';
  }
  // Odoo 17 and 18 have no /web/version route; every Odoo answers the JSON-RPC common service.
  let rpcSaid: string;
  try {
    const info = await wire.rpc({ service: 'common', method: 'version', args: [] }, signal, true);
    const found = readVersion(info);
    if (found) return found;
    rpcSaid = 'JSON-RPC common.version answered without a version';
  } catch (err) {
    if (err instanceof OdooFaultError && err.fault.status === 429) {
      throw throttled('while reporting its version', err.fault.retryAfterSeconds);
    }
    if (!(err instanceof NotFoundError || err instanceof OdooFaultError || err instanceof UpstreamError)) {
      throw err;
    }
    rpcSaid =
      err instanceof NotFoundError
        ? 'POST /jsonrpc answered 404'
        : err instanceof OdooFaultError
          ? `JSON-RPC common.version failed${err.fault.message ? ` (${quotedFirstLine(err.fault.message, 120)})` : ''}`
          : 'POST /jsonrpc answered with something that is not JSON-RPC';
  }
  throw new UpstreamError(`${host} does not answer like an Odoo server: ${webSaid}, and ${rpcSaid}`, {
    hint: 'Check that ODOO_URL is the address of the Odoo server itself (e.g. https://acme.odoo.com), not a page, a login portal or another service; with --protocol json2 or jsonrpc no version check is made',
  });
}

/**
 * The version under a forced protocol, without `/web/version`: JSON-RPC's own `common.version` when that is the
 * protocol (best effort), otherwise what the protocol implies (JSON-2 exists from Odoo 19).
 */
export async function versionUnder(
  protocol: Protocol,
  wire: OdooTransport,
  log: Logger,
  signal?: AbortSignal,
): Promise<ServerVersion> {
  if (protocol === 'jsonrpc') {
    try {
      const found = readVersion(
        await wire.rpc({ service: 'common', method: 'version', args: [] }, signal, true),
      );
      if (found) return found;
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      log.debug('common.version did not answer; going on with --protocol jsonrpc');
    }
    return { version: 'unknown (JSON-RPC forced)', major: MIN_MAJOR + 1, minor: 0, assumed: true };
  }
  return {
    version: `${JSON2_MAJOR}.0 or newer (JSON-2 forced)`,
    major: JSON2_MAJOR,
    minor: 0,
    assumed: true,
  };
}

/**
 * The version in either shape Odoo answers: `/web/version` (19+: `{version_info: [19, 0, 0, "final", 0, ""],
 * version: "19.0"}`, addons/rpc/controllers/__init__.py) or JSON-RPC `common.version` (`server_version`,
 * `server_version_info`, odoo/service/common.py). Odoo Online writes `["saas~19", 1, …]` / "saas~19.1".
 * Undefined when neither shape is there.
 */
export function readVersion(info: unknown): ServerVersion | undefined {
  if (!info || typeof info !== 'object' || Array.isArray(info)) return undefined;
  const o = info as Record<string, unknown>;
  const parts = Array.isArray(o.version_info)
    ? o.version_info
    : Array.isArray(o.server_version_info)
      ? o.server_version_info
      : undefined;
  const rawText = typeof o.version === 'string' ? o.version : o.server_version;
  // Odoo's words: kept only when they look like a version ("19.0", "saas~19.1", "19.0+e").
  const text = typeof rawText === 'string' && /^[\w~.+-]{1,40}$/.test(rawText) ? rawText : '';
  let major = parts ? Number(String(parts[0]).replace(/^saas~/, '')) : NaN;
  let minor = parts ? Number(parts[1]) : NaN;
  if (!Number.isInteger(major)) {
    const m = /(\d+)\.(\d+)/.exec(text);
    major = m ? Number(m[1]) : NaN;
    minor = m ? Number(m[2]) : 0;
  }
  if (!Number.isInteger(major) || major <= 0) return undefined;
  const safeMinor = Number.isInteger(minor) ? minor : 0;
  return { version: text || `${major}.${safeMinor}`, major, minor: safeMinor };
}

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
