import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { Readable } from 'node:stream';
import {
  createMcpHandler,
  validateHostHeader,
  validateOriginHeader,
  type AuthInfo,
} from '@modelcontextprotocol/server';
import type { AuditLog } from './audit.js';
import { registerSecret } from './redact.js';
import { BearerRejected, ResourceServer, type OnBehalfOf, type ResourceServerOptions } from './oauth.js';
import { commandHint } from './command-hint.js';
import { UserInputError } from './errors.js';
import type { Logger } from './log.js';
import { serverFactory, type ServerDefinition } from './server.js';
import { MAX_INPUT_MESSAGE_BYTES } from './stdio.js';
import type { ModeOptions } from './toolset.js';

/**
 * MCP over Streamable HTTP on one endpoint, `/mcp`, for application backends: both protocol eras (the SDK's
 * `createMcpHandler` serves 2026-07-28 per request and 2025-era clients statelessly), a fresh SDK server per
 * request (nothing of one caller's reaches another), and the guards a local HTTP port needs: loopback by default,
 * `Host` and `Origin` checked (DNS rebinding), a bearer key required for any other bind, a body limit, a limit on
 * requests at once, a time limit per request, and a graceful stop.
 */
export interface HttpServeOptions {
  host: string;
  port: number;
  modes: ModeOptions;
  log: Logger;
  /** The static key a trusted backend sends as `Authorization: Bearer <key>`; off loopback, this or `oauth`. */
  key?: string;
  /**
   * Per-user sign-in, the MCP authorization way: each request carries a user's Entra ID token for this server's
   * app registration, checked as a resource server does (see oauth.ts). `resource` is filled in once listening.
   */
  oauth?: Omit<ResourceServerOptions, 'resource'> & { publicUrl?: string };
  /** With `oauth`: how a signed-in caller's token becomes a downstream one (`ToolContext.caller`). */
  onBehalfOf?: OnBehalfOf;
  audit?: AuditLog;
  /** The largest request body read (default: the stdio transport's 10 MiB per message). */
  maxBodyBytes?: number;
  /** Requests served at once; more get 503 with `Retry-After` (default 16). */
  maxConcurrent?: number;
  /** How long one request may take before it is cancelled (default 5 minutes). */
  requestTimeoutMs?: number;
  /** How long a stop waits for requests in flight (default 10 s). */
  drainMs?: number;
  /** More names the `Host` and `Origin` headers may carry (a reverse proxy's public name). */
  allowedHosts?: string[];
}

export interface RunningHttpServer {
  /** The endpoint, e.g. `http://127.0.0.1:43117/mcp`. */
  url: string;
  /** Stop taking requests, let those in flight finish (bounded), release the server's resources. */
  close(): Promise<void>;
  closed: Promise<void>;
}

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** `[host:]port` → host and port; the host defaults to 127.0.0.1, an IPv6 host is written in brackets. */
export function parseListen(value: string): { host: string; port: number } {
  const text = value.trim();
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) {
    throw new UserInputError(
      `'${value}' is not an address to listen on: give [host:]port, e.g. 8080, 127.0.0.1:8080 or [::1]:8080 (port 0 picks a free one)`,
    );
  }
  const host = match[1] ?? '127.0.0.1';
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The names a request may address this server by: loopback, the bound name, and on a wildcard bind this machine's. */
function allowedNames(host: string, extra: string[]): string[] {
  const bracket = (h: string) => (isIP(h) === 6 ? `[${h}]` : h);
  const names = new Set([...LOOPBACK, ...extra.map((h) => h.toLowerCase())]);
  if (host === '0.0.0.0' || host === '::') {
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces()))
      for (const a of list ?? []) names.add(bracket(a.address.replace(/%.*$/, '')));
  } else names.add(bracket(host.toLowerCase()));
  return [...names];
}

/** Whether the sent key is the configured one, in time that does not depend on where they differ. */
export function keyMatches(sent: string, key: string): boolean {
  const a = createHash('sha256').update(sent).digest();
  const b = createHash('sha256').update(key).digest();
  return timingSafeEqual(a, b);
}

/** A JSON-RPC error answer with one sentence (what clients show), outside any MCP exchange. */
function refuse(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } });
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

export async function serveHttp(
  def: ServerDefinition,
  options: HttpServeOptions,
): Promise<RunningHttpServer> {
  const { log } = options;
  if (!isLoopback(options.host) && !options.key && !options.oauth) {
    throw new UserInputError(
      `Refusing to listen on ${options.host} without a key: anyone who can reach it could use ${def.name} with your credentials; set SWITCHYARD_HTTP_KEY (or store one with '${commandHint(`${def.name} http-key`)}'), configure per-user sign-in (SWITCHYARD_HTTP_OAUTH_TENANT and SWITCHYARD_HTTP_OAUTH_CLIENT_ID), or listen on 127.0.0.1`,
    );
  }
  const maxBody = options.maxBodyBytes ?? MAX_INPUT_MESSAGE_BYTES;
  const maxConcurrent = options.maxConcurrent ?? 16;
  const timeoutMs = options.requestTimeoutMs ?? 300_000;
  const drainMs = options.drainMs ?? 10_000;
  const names = allowedNames(options.host, options.allowedHosts ?? []);
  const principal = options.key ? 'key' : options.oauth ? 'user' : 'anonymous';
  // Only who called, never the key itself: handlers and the audit log read the principal from `clientId`.
  const keyAuth: AuthInfo = { token: '', clientId: principal, scopes: [] };
  // Per-user sign-in: made once the address is known (the metadata names this server's URL).
  let resource: ResourceServer | undefined;
  let metadataUrl = '';
  const factory = serverFactory(def, {
    modes: options.modes,
    log,
    principal,
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.onBehalfOf ? { onBehalfOf: options.onBehalfOf } : {}),
  });
  const handler = createMcpHandler(({ era }) => factory.build(era), {
    legacy: 'stateless',
    maxRequestBodySize: maxBody,
    onerror: (error) => log.debug(`http: ${error.message.slice(0, 200)}`),
  });

  const timeoutMessage = `Timed out: the request took longer than ${Math.round(timeoutMs / 1000)} s and was cancelled; ask for less or retry.`;
  let inFlight = 0;
  const idle = memoryBackWhenIdle();
  let draining = false;
  let drained: (() => void) | undefined;

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (draining)
      return refuse(res, 503, `${def.name} is shutting down; retry on another instance or later.`, {
        connection: 'close',
        'retry-after': '5',
      });
    const host = validateHostHeader(req.headers.host, names);
    if (!host.ok) {
      log.warn(`refused a request for host ${JSON.stringify(req.headers.host ?? '')}`);
      return refuse(
        res,
        403,
        `Forbidden: this server answers only requests addressed to ${names.slice(0, 4).join(', ')} (the Host header names another; set SWITCHYARD_HTTP_ALLOWED_HOSTS to add a name).`,
      );
    }
    const origin = validateOriginHeader(req.headers.origin, names);
    if (!origin.ok) {
      log.warn(`refused a request from origin ${JSON.stringify(req.headers.origin ?? '')}`);
      return refuse(
        res,
        403,
        'Forbidden: requests from web pages of other sites are refused (the Origin header names a foreign site).',
      );
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ status: 'ok' }));
      return;
    }
    if (
      resource &&
      (path === '/.well-known/oauth-protected-resource' ||
        path === '/.well-known/oauth-protected-resource/mcp')
    ) {
      // RFC 9728: where a client gets a token for this server; public, like the authority's own metadata.
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
      res.end(JSON.stringify(resource.metadata()));
      return;
    }
    if (path !== '/mcp')
      return refuse(res, 404, `Not found: MCP is served at /mcp (and a health check at /healthz).`);
    let authInfo = keyAuth;
    if (options.key || resource) {
      const header = req.headers.authorization ?? '';
      const sent = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
      const keyed = options.key !== undefined && sent !== undefined && keyMatches(sent, options.key);
      if (!keyed && resource) {
        try {
          const user = await resource.verify(req.headers.authorization);
          // The user's token stays in this request: the on-behalf-of exchange is its only use, and it is redacted.
          registerSecret(user.assertion);
          authInfo = {
            token: user.assertion,
            clientId: `user:${user.tenantId}:${user.subject}`,
            scopes: user.scopes,
            expiresAt: Math.floor(user.expiresAt / 1000),
            ...(user.username ? { extra: { username: user.username } } : {}),
          };
        } catch (err) {
          if (!(err instanceof BearerRejected)) throw err;
          log.warn(`refused a request: ${err.message}`);
          return refuse(
            res,
            err.status,
            `${err.status === 401 ? 'Unauthorized' : 'Forbidden'}: ${err.message}`,
            {
              'www-authenticate': resource.challenge(err, metadataUrl),
            },
          );
        }
      } else if (!keyed) {
        log.warn(sent ? 'refused a request with a wrong key' : 'refused a request without a key');
        return refuse(
          res,
          401,
          sent
            ? "Unauthorized: the bearer key is not this server's key; send the value of SWITCHYARD_HTTP_KEY."
            : 'Unauthorized: send this server\'s key as "Authorization: Bearer <key>".',
          { 'www-authenticate': `Bearer realm="${def.name}"${sent ? ', error="invalid_token"' : ''}` },
        );
      } else {
        authInfo = { token: '', clientId: 'key', scopes: [] };
      }
    }
    if (inFlight >= maxConcurrent) {
      log.warn(`refused a request: ${inFlight} already in flight`);
      return refuse(
        res,
        503,
        `Busy: ${maxConcurrent} requests are already being served; retry in a moment.`,
        { 'retry-after': '1' },
      );
    }
    inFlight++;
    idle.busy();
    try {
      await exchange(req, res, authInfo);
    } finally {
      if (--inFlight === 0) {
        drained?.();
        idle.quiet();
      }
    }
  };

  const exchange = async (req: IncomingMessage, res: ServerResponse, authInfo: AuthInfo): Promise<void> => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = `Payload too large: a request body may hold at most ${(maxBody / 1024 / 1024).toFixed(0)} MiB; send smaller arguments (large content belongs in a file under an allowed folder).`;
    const read = declared > maxBody ? 'too large' : await readBody(req, maxBody);
    if (read === 'gone') return;
    if (read === 'too large') {
      discard(req);
      return refuse(res, 413, tooLarge);
    }
    const body = read;
    const abort = new AbortController();
    const timedOut = new AbortController();
    // What listens on the request's signal is removed when the exchange ends: the web Request built below registers
    // that signal in a FinalizationRegistry (undici's request finalizer) that holds it until a later garbage
    // collection, and a listener's closure would hold this response, its stream and its body that long (an idle
    // server runs no collection, so after a load they stayed: 58 MB after 10,000 calls, bench/http.mjs).
    const listening: Array<() => void> = [];
    const onAbort = (listener: () => void): void => {
      abort.signal.addEventListener('abort', listener, { once: true });
      listening.push(() => abort.signal.removeEventListener('abort', listener));
    };
    const timer = setTimeout(() => {
      timedOut.abort();
      abort.abort(new Error('timeout'));
    }, timeoutMs);
    res.once('close', () => {
      if (!res.writableFinished) abort.abort(new Error('client went away'));
    });
    try {
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/mcp'}`, {
        method: req.method ?? 'GET',
        headers,
        signal: abort.signal,
        ...(body && body.length > 0 ? { body } : {}),
      });
      const response = await Promise.race([
        handler.fetch(request, { authInfo }),
        new Promise<undefined>((resolve) => onAbort(() => resolve(undefined))),
      ]);
      if (!response) {
        if (!res.destroyed) refuse(res, 504, timeoutMessage);
        return;
      }
      const out: Record<string, string> = {};
      response.headers.forEach((value, name) => (out[name] = value));
      res.writeHead(response.status, out);
      if (!response.body) {
        res.end();
        return;
      }
      const stream = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
      onAbort(() => {
        stream.unpipe(res);
        stream.destroy();
        // A stream already under way cannot change its status: the answer it owes becomes an error event.
        const id = timedOut.signal.aborted ? requestId(body) : undefined;
        if (
          id !== undefined &&
          !res.destroyed &&
          String(out['content-type']).startsWith('text/event-stream')
        ) {
          const error = { jsonrpc: '2.0', id, error: { code: -32001, message: timeoutMessage } };
          res.end(`event: message\ndata: ${JSON.stringify(error)}\n\n`);
        } else res.destroy();
      });
      await new Promise<void>((resolve) => {
        stream.on('error', () => res.destroy());
        res.once('close', resolve);
        stream.pipe(res);
      });
    } finally {
      clearTimeout(timer);
      for (const stop of listening) stop();
    }
  };

  // Loaded here, not at the top: importing node:http makes Node load its web-standards layer (undici), ~15 ms of
  // every start, and a stdio server never listens.
  const { createServer } = await import('node:http');
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    serve(req, res).catch((err: unknown) => {
      log.error(`http: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      refuse(res, 500, "Internal error while serving the request; the details are in the server's log.");
    });
  });
  // Receiving a request (headers and body) is bounded by Node itself, so a client that trickles its body cannot
  // hold one of the slots for ever; the work after it is bounded by the per-request timer above.
  server.requestTimeout = Math.min(timeoutMs, 60_000);
  server.headersTimeout = Math.min(timeoutMs, 30_000);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new UserInputError(
          `Cannot listen on ${options.host}:${options.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use; pick another' : err.code === 'EACCES' ? 'not allowed (ports below 1024 need privileges); pick a port above 1024' : err.message}`,
        ),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shown = isIP(options.host) === 6 ? `[${options.host}]` : options.host;
  const url = `http://${shown}:${port}/mcp`;
  if (options.oauth) {
    const { publicUrl, ...rest } = options.oauth;
    const base = (publicUrl ?? url.slice(0, -'/mcp'.length)).replace(/\/+$/, '').replace(/\/mcp$/, '');
    resource = new ResourceServer({ ...rest, resource: `${base}/mcp` });
    metadataUrl = `${base}/.well-known/oauth-protected-resource/mcp`;
  }
  log.info(
    `${def.name} ${def.version} serving ${factory.tools.length} tools at ${url}${options.key ? ' (bearer key required)' : ''}${options.oauth ? ' (per-user sign-in)' : ''}`,
  );

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      draining = true;
      server.close();
      server.closeIdleConnections();
      if (inFlight > 0) {
        log.info(`stopping: waiting up to ${drainMs} ms for ${inFlight} request(s) in flight`);
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, drainMs).unref();
        });
      }
      await handler.close().catch(() => {});
      server.closeAllConnections();
      try {
        // Running tasks stop first, so what they had not committed is undone before the server lets go.
        await factory.tasks.close();
        await def.close?.();
      } catch (err) {
        log.warn(`error while releasing resources: ${err instanceof Error ? err.message : String(err)}`);
      }
      resolveClosed();
    })());
  return { url, close, closed };
}

/** The id of a single JSON-RPC request body, when it has one. */
function requestId(body: Buffer | undefined): string | number | undefined {
  try {
    const id = (JSON.parse(body?.toString('utf8') ?? '') as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Read and drop what is left of a refused body for a few seconds (so the client reads the answer), then hang up. */
function discard(req: IncomingMessage): void {
  const timer = setTimeout(() => req.destroy(), 5000).unref();
  req.once('end', () => clearTimeout(timer));
  req.resume();
}

/**
 * The whole body; 'too large' once it passes `max` bytes (the rest is not kept); 'gone' when the client hung up
 * or Node ended a request that took too long to arrive.
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too large' | 'gone'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.removeAllListeners('end');
        resolve('too large');
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', () => resolve('gone'));
    req.once('close', () => resolve(req.complete ? Buffer.concat(chunks) : 'gone'));
  });
}

/** How long the server must have had nothing in flight, after a busy spell, before it gives memory back. */
const IDLE_MS = 5000;
/** Requests since the last collection that make one worth its pause. */
const BUSY_REQUESTS = 200;

/**
 * After a busy spell, once the server has been idle a few seconds, give the memory the spell took back to the
 * system. V8 collects garbage only as a program allocates, so an idle server kept the heap a load had grown to
 * (bench/http.mjs: 10,000 calls left 231 MB resident, 79 MB of it garbage, 30 s later). Two full collections, the
 * second of which releases the emptied pages, bring it back to where it started (89 MB; 101 MB before the load).
 * `vm.measureMemory` with eager execution is the one API that starts a full collection without --expose-gc; its
 * result is not used.
 */
function memoryBackWhenIdle(): { busy(): void; quiet(): void } {
  let requests = 0;
  let timer: NodeJS.Timeout | undefined;
  const collect = async (): Promise<void> => {
    const { measureMemory } = await import('node:vm');
    for (let i = 0; i < 2; i++) {
      // Experimental in Node 20 and 22, and it says so on stderr every time: not a message for the operator.
      const emitWarning = process.emitWarning;
      process.emitWarning = () => {};
      let measured: Promise<unknown>;
      try {
        measured = measureMemory({ mode: 'summary', execution: 'eager' });
      } finally {
        process.emitWarning = emitWarning;
      }
      await measured.catch(() => undefined);
    }
  };
  return {
    busy: () => {
      requests++;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    quiet: () => {
      if (requests < BUSY_REQUESTS) return;
      timer = setTimeout(() => {
        requests = 0;
        void collect();
      }, IDLE_MS).unref();
    },
  };
}
