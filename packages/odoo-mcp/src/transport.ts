/**
 * The wire under the client: one ORM call sent as JSON-2 (`POST /json/2/<model>/<method>`, bearer API key, Odoo 19+)
 * or as JSON-RPC `execute_kw` (`POST /jsonrpc`, Odoo ≤ 18), and Odoo's failures on either read into an
 * `OdooFaultError`. Which protocol, which database and which user are the session's business, not this file's.
 */
import {
  HttpClient,
  UpstreamError,
  retryAfterSeconds,
  type HttpErrorResponse,
  type Logger,
} from '@switchyard/core';
import { OdooFaultError, type OdooFault } from './errors.js';

export type Protocol = 'json2' | 'jsonrpc';

/** Where a call goes once connected: the protocol, the database and (JSON-RPC) the signed-in user. */
export interface Route {
  protocol: Protocol;
  db: string | undefined;
  uid: number;
}

interface JsonRpcReply {
  result?: unknown;
  error?: { code?: number; message?: string; data?: { name?: string; message?: string } };
}

export class OdooTransport {
  private rpcId = 0;

  constructor(readonly http: HttpClient) {}

  /** An HTTP client for the Odoo at `url` that reads Odoo's failures as faults. */
  static create(options: { url: string; userAgent: string; log: Logger; timeoutMs: number }): OdooTransport {
    const http = new HttpClient({
      service: 'Odoo',
      baseUrl: options.url,
      userAgent: options.userAgent,
      log: options.log,
      timeoutMs: options.timeoutMs,
      describeError: describeHttpFailure,
    });
    return new OdooTransport(http);
  }

  /**
   * One ORM method with named parameters; `ids` become the records it runs on, `context` rides along when it
   * has keys. The same call goes out as JSON-2 or as JSON-RPC `execute_kw`. The key is passed per call: `login`
   * sets it only after the version probe has made this transport.
   */
  async orm(
    route: Route,
    apiKey: string,
    call: {
      model: string;
      method: string;
      ids: number[] | undefined;
      named: Record<string, unknown>;
      context: Record<string, unknown>;
    },
    options: { signal: AbortSignal | undefined; idempotent: boolean },
  ): Promise<unknown> {
    const { model, method, ids, named, context } = call;
    if (route.protocol === 'json2') {
      const body = {
        ...(ids ? { ids } : {}),
        ...named,
        ...(Object.keys(context).length ? { context } : {}),
      };
      return this.http.post(`/json/2/${encodeURIComponent(model)}/${encodeURIComponent(method)}`, body, {
        signal: options.signal,
        idempotent: options.idempotent,
        headers: {
          authorization: `bearer ${apiKey}`,
          ...(route.db ? { 'x-odoo-database': route.db } : {}),
        },
      });
    }
    const kwargs = { ...named, ...(Object.keys(context).length ? { context } : {}) };
    return this.rpc(
      {
        service: 'object',
        method: 'execute_kw',
        args: [route.db, route.uid, apiKey, model, method, ids ? [ids] : [], kwargs],
      },
      options.signal,
      options.idempotent,
      { model, method },
    );
  }

  /**
   * One JSON-RPC call; errors (HTTP 200 with `{error: {code, message, data: {name, message, arguments, context,
   * debug}}}`, `JsonRPCDispatcher.handle_error` and `serialize_exception` in odoo/http.py) become OdooFaultError.
   */
  async rpc(
    params: { service: string; method: string; args: unknown[] },
    signal: AbortSignal | undefined,
    idempotent: boolean,
    info?: { model: string; method: string },
  ): Promise<unknown> {
    const reply = await this.http.post<JsonRpcReply>(
      '/jsonrpc',
      { jsonrpc: '2.0', method: 'call', params, id: ++this.rpcId },
      { signal, idempotent },
    );
    if (reply?.error) {
      const data = reply.error.data ?? {};
      throw new OdooFaultError({
        name: data.name ?? 'odoo.error',
        message: data.message ?? reply.error.message ?? 'Odoo Server Error',
        rpcCode: reply.error.code,
      });
    }
    if (!reply || !('result' in reply)) {
      throw new UpstreamError(
        `Odoo answered ${info ? `${info.model}.${info.method}` : params.method} with something that is not JSON-RPC`,
        { hint: 'Check that ODOO_URL points at the Odoo server itself' },
      );
    }
    return reply.result;
  }
}

/**
 * JSON-2 failures carry `{name, message, arguments, context, debug}` with the exception's `http_status` or the
 * werkzeug code (`Json2RpcDispatcher.handle_error`, addons/rpc/controllers/json2.py; statuses from
 * odoo/exceptions.py); keep name and message, never `debug`. Without a database, the route does not exist and
 * odoo/http.py serves werkzeug's HTML 404 page.
 */
function describeHttpFailure(failure: HttpErrorResponse): Error | undefined {
  if (failure.status === 429) {
    // From Odoo (JSON-2 shape) or a proxy in front of it, on either protocol; the wait it asks for is kept.
    const body = failure.json as { name?: unknown; message?: unknown } | undefined;
    const odoo = isOdooErrorBody(body);
    return new OdooFaultError({
      name: odoo ? String(body!.name) : '',
      // A proxy's page comes as core read it: its text, on one line.
      message: odoo && typeof body!.message === 'string' ? body!.message : (failure.message ?? ''),
      status: 429,
      retryAfterSeconds: retryAfterSeconds(failure.headers),
    });
  }
  if (failure.status >= 500 && !isOdooErrorBody(failure.json)) {
    return new OdooFaultError({ name: '', message: failure.message ?? '', status: failure.status });
  }
  if (!failure.url.includes('/json/2/')) return undefined;
  const body = failure.json as { name?: unknown; message?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.name === 'string') {
    const fault: OdooFault = {
      name: body.name,
      message: typeof body.message === 'string' ? body.message : '',
      status: failure.status,
    };
    return new OdooFaultError(fault);
  }
  if (failure.status === 401) {
    return new OdooFaultError({
      name: 'werkzeug.exceptions.Unauthorized',
      message: 'Unauthorized',
      status: 401,
    });
  }
  if (failure.status === 404) {
    // An HTML 404: no database was selected (unknown ODOO_DB), so no JSON-2 route exists.
    return new UpstreamError(`Odoo answered HTTP 404 for ${new URL(failure.url).pathname}`, {
      hint: 'Check ODOO_URL and ODOO_DB',
    });
  }
  return undefined;
}

function isOdooErrorBody(json: unknown): boolean {
  return Boolean(json && typeof json === 'object' && typeof (json as { name?: unknown }).name === 'string');
}
