import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testCertificate } from './certificate.js';

export interface FakeRequest {
  method: string;
  /** The decoded path, without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Values of `:name` segments of the matched route. */
  params: Record<string, string>;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
  url: URL;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as JSON unless it is a string or a Buffer. */
  body?: unknown;
}

export type FakeHandler = (
  req: FakeRequest,
  raw: { req: IncomingMessage; res: ServerResponse },
) => FakeReply | void | Promise<FakeReply | void>;

export interface Fault {
  method?: string;
  /** Matches when the path equals the string, contains it as a prefix followed by / or ?, or matches the RegExp. */
  path?: string | RegExp;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** Wait this long before answering (or failing). */
  delayMs?: number;
  /** Close the connection without an answer. */
  drop?: boolean;
  /** How many matching requests this fault hits (default 1). */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingMessage['headers'];
  body: string;
  status: number;
  at: number;
  /** The client went away (closed the connection) before the answer was sent: a cancelled call. */
  abandoned: boolean;
}

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  names: string[];
  handler: FakeHandler;
}

/**
 * A local HTTPS service for tests: routes with `:params`, a log of every request, and injected failures
 * (a status with a body, `Retry-After`, a delay, a dropped connection). Fakes of Power BI, Graph and Odoo
 * are built on it; servers under test reach it through their configurable upstream URLs.
 */
export class FakeService {
  readonly requests: RecordedRequest[] = [];
  private readonly routes: Route[] = [];
  private faults: Array<Fault & { left: number }> = [];
  private server: Server | undefined;
  private baseUrl = '';

  constructor(readonly name = 'fake') {}

  static async start(name?: string): Promise<FakeService> {
    const fake = new FakeService(name);
    await fake.listen();
    return fake;
  }

  /** `https://localhost:<port>` */
  get url(): string {
    return this.baseUrl;
  }

  async listen(): Promise<void> {
    const { cert, key } = await testCertificate();
    this.server = createServer({ cert, key }, (req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `https://localhost:${(this.server.address() as AddressInfo).port}`;
  }

  route(method: string, pattern: string, handler: FakeHandler): this {
    const names: string[] = [];
    const source = pattern
      .split('/')
      .map((seg) => {
        if (seg === '*') return '.*';
        if (seg.startsWith(':')) {
          names.push(seg.slice(1));
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.routes.push({
      method: method.toUpperCase(),
      pattern,
      regex: new RegExp(`^${source}$`),
      names,
      handler,
    });
    return this;
  }

  /** Make the next matching request(s) fail as described. */
  inject(fault: Fault): this {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
    return this;
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Requests whose path matches, optionally of one method. */
  requestsTo(path: string | RegExp, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => (!method || r.method === method) && matchPath(path, r.path));
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', this.baseUrl);
    const path = decodeURIComponent(url.pathname);
    const method = (req.method ?? 'GET').toUpperCase();
    const record: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: body.toString('utf8'),
      status: 0,
      at: Date.now(),
      abandoned: false,
    };
    this.requests.push(record);
    res.once('close', () => {
      if (!res.writableFinished && record.status !== -1) record.abandoned = true;
    });
    const send = (reply: FakeReply) => {
      record.status = reply.status ?? 200;
      if (res.headersSent) return;
      const headers: Record<string, string> = { ...reply.headers };
      let payload: Buffer | string | undefined;
      if (reply.body === undefined) payload = undefined;
      else if (Buffer.isBuffer(reply.body) || reply.body instanceof Uint8Array)
        payload = Buffer.from(reply.body);
      else if (typeof reply.body === 'string') payload = reply.body;
      else {
        payload = JSON.stringify(reply.body);
        headers['content-type'] ??= 'application/json; charset=utf-8';
      }
      res.writeHead(record.status, headers);
      res.end(payload);
    };

    const fault = this.faults.find(
      (f) =>
        f.left > 0 &&
        (!f.method || f.method.toUpperCase() === method) &&
        (!f.path || matchPath(f.path, path)),
    );
    if (fault) {
      fault.left--;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.drop) {
        record.status = -1;
        req.socket.destroy();
        return;
      }
      if (fault.status) {
        send({
          status: fault.status,
          headers: {
            ...(fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {}),
            ...fault.headers,
          },
          body: fault.body,
        });
        return;
      }
    }

    const route = this.routes.find((r) => r.method === method && r.regex.test(path));
    if (!route) {
      send({
        status: 404,
        body: { error: { code: 'NoRoute', message: `${this.name} has no route for ${method} ${path}` } },
      });
      return;
    }
    const match = route.regex.exec(path)!;
    const params = Object.fromEntries(route.names.map((n, i) => [n, match[i + 1]!]));
    const request: FakeRequest = {
      method,
      path,
      query: url.searchParams,
      headers: req.headers,
      params,
      body,
      url,
      text: () => body.toString('utf8'),
      json: <T>() => (body.length ? JSON.parse(body.toString('utf8')) : undefined) as T,
    };
    try {
      const reply = await route.handler(request, { req, res });
      if (reply) send(reply);
      else if (!res.writableEnded && !res.headersSent) send({ status: 204 });
      else record.status = res.statusCode;
    } catch (err) {
      send({ status: 500, body: { error: { code: 'FakeFailure', message: (err as Error).message } } });
    }
  }
}

function matchPath(pattern: string | RegExp, path: string): boolean {
  if (pattern instanceof RegExp) return pattern.test(path);
  return path === pattern || path.startsWith(pattern.endsWith('/') ? pattern : `${pattern}/`);
}
