/**
 * A fake Odoo server on testkit's FakeService, speaking both external APIs with Odoo's real shapes:
 * - JSON-2 (Odoo 19+): POST /json/2/<model>/<method>, `Authorization: bearer <key>`, optional
 *   X-Odoo-Database; errors as HTTP 4xx/5xx with {name, message, arguments, context, debug}.
 * - JSON-RPC (all versions, deprecated in 19): POST /jsonrpc, services common/db/object; errors as
 *   HTTP 200 with {error: {code, message, data: {name, message, debug, ...}}}.
 * - GET /web/version (17+; older servers only answer common.version).
 */
import { FakeService, type FakeRequest, type FakeReply } from '@switchyard/testkit';
import { buildCompany } from './company.js';
import { METHOD_PARAMS, OdooException, Orm, RECORD_METHODS, accessError, type Env } from './orm.js';

export interface FakeOdooOptions {
  /** As Odoo reports it: "17.0", "18.0", "19.0", "16.0", "15.0", "saas~18.2". */
  version?: string;
  databases?: string[];
  /** db.list answers (list_db = True); otherwise it is refused. */
  listDatabases?: boolean;
  hireDateField?: boolean;
  now?: Date;
}

export interface InjectedFault {
  model?: string;
  method?: string;
  name: string;
  message: string;
  /** JSON-2 status; JSON-RPC always answers 200. */
  status?: number;
  /** Seconds, sent as `Retry-After` with a JSON-2 answer (as werkzeug's TooManyRequests does). */
  retryAfter?: number;
  times?: number;
}

/** An injected fault, answered with its own status and headers over JSON-2. */
class InjectedException extends OdooException {
  constructor(readonly fault: InjectedFault) {
    super(fault.name, fault.message);
  }
}

/** The traceback Odoo puts in `debug`: it must never reach the model. */
export const DEBUG_MARKER =
  'Traceback (most recent call last):\n  File "/opt/odoo/odoo/http.py", line 2220, in _serve_db';

const STATUS: Record<string, number> = {
  'odoo.exceptions.AccessError': 403,
  'odoo.exceptions.AccessDenied': 403,
  'odoo.exceptions.MissingError': 404,
  'odoo.exceptions.UserError': 422,
  'odoo.exceptions.ValidationError': 422,
  'builtins.TypeError': 422,
};

const NOT_FOUND_HTML =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n';

export class FakeOdoo {
  readonly service: FakeService;
  readonly orm: Orm;
  readonly version: string;
  readonly major: number;
  readonly minor: number;
  readonly databases: string[];
  listDatabases: boolean;
  /** API key → uid. */
  readonly keys = new Map<string, number>();
  readonly adminKey = 'odoo-admin-key-7d1f00c2a9e84b6b';
  readonly salesKey = 'odoo-sales-key-41b9aa0e5c2d4f83';
  readonly notzKey = 'odoo-notz-key-5e6a1b2c3d4e5f60';
  private faults: Array<InjectedFault & { left: number }> = [];

  private constructor(service: FakeService, options: FakeOdooOptions) {
    this.service = service;
    this.version = options.version ?? '19.0';
    const m = /(\d+)\.(\d+)/.exec(this.version)!;
    this.major = Number(m[1]);
    this.minor = Number(m[2]);
    this.databases = options.databases ?? ['acme'];
    this.listDatabases = options.listDatabases ?? true;
    this.orm = new Orm(this.major);
    buildCompany(this.orm, {
      major: this.major,
      hireDateField: options.hireDateField ?? true,
      now: options.now ?? new Date(),
    });
    this.keys.set(this.adminKey, 2);
    this.keys.set(this.salesKey, 6);
    this.keys.set(this.notzKey, 8);
    this.routes();
  }

  static async start(options: FakeOdooOptions = {}): Promise<FakeOdoo> {
    const service = await FakeService.start(`Odoo ${options.version ?? '19.0'}`);
    return new FakeOdoo(service, options);
  }

  get url(): string {
    return this.service.url;
  }

  /** Make the next matching ORM call(s) fail with an Odoo exception, in the protocol's own shape. */
  fail(fault: InjectedFault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  revokeKey(key: string): void {
    this.keys.delete(key);
  }

  close(): Promise<void> {
    return this.service.close();
  }

  private versionInfo() {
    return {
      server_version: this.version,
      server_version_info: [this.major, this.minor, 0, 'final', 0, ''],
      server_serie: this.version,
      protocol_version: 1,
    };
  }

  private routes(): void {
    this.service.route('GET', '/web/version', () =>
      this.major >= 17
        ? { body: this.versionInfo() }
        : { status: 404, headers: { 'content-type': 'text/html' }, body: NOT_FOUND_HTML },
    );
    this.service.route('POST', '/jsonrpc', (req) => this.jsonRpc(req));
    this.service.route('POST', '/json/2/:model/:method', (req) => this.json2(req));
  }

  // ---- JSON-2 -------------------------------------------------------------------------------------

  private json2(req: FakeRequest): FakeReply {
    const html404 = {
      status: 404,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      body: NOT_FOUND_HTML,
    };
    if (this.major < 19) return html404;
    const header = req.headers['x-odoo-database'];
    const db =
      typeof header === 'string' ? header : this.databases.length === 1 ? this.databases[0] : undefined;
    // Without a known database, no JSON-2 route exists: the server answers its HTML 404 page.
    if (!db || !this.databases.includes(db)) return html404;
    const auth = /^bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    const uid = auth ? this.keys.get(auth[1]!.trim()) : undefined;
    if (!uid) {
      return this.json2Error(new OdooException('werkzeug.exceptions.Unauthorized', 'Invalid apikey'), 401);
    }
    const { model, method } = req.params as { model: string; method: string };
    if (!this.orm.models.has(model)) {
      return this.json2Error(
        new OdooException('werkzeug.exceptions.NotFound', `model '${model}' not found`),
        404,
      );
    }
    let body: Record<string, unknown>;
    try {
      body = (req.json<Record<string, unknown>>() ?? {}) as Record<string, unknown>;
    } catch {
      return this.json2Error(new OdooException('werkzeug.exceptions.BadRequest', 'Invalid JSON data'), 400);
    }
    const { ids, context, ...kwargs } = body;
    try {
      const result = this.dispatch(model, method, (ids as number[] | undefined) ?? undefined, kwargs, {
        uid,
        context: (context as Record<string, unknown>) ?? {},
      });
      return { body: result ?? null };
    } catch (err) {
      if (err instanceof InjectedException && err.fault.status) {
        const { status, retryAfter } = err.fault;
        const headers = retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : undefined;
        return this.json2Error(err, status, headers);
      }
      if (err instanceof OdooException) return this.json2Error(err, STATUS[err.odooName] ?? 500);
      throw err;
    }
  }

  private json2Error(err: OdooException, status: number, headers?: Record<string, string>): FakeReply {
    return {
      status,
      ...(headers ? { headers } : {}),
      body: {
        name: err.odooName,
        message: err.message,
        arguments: [err.message, status],
        context: {},
        debug: `${DEBUG_MARKER}\n${err.odooName}: ${err.message}`,
      },
    };
  }

  // ---- JSON-RPC -----------------------------------------------------------------------------------

  private jsonRpc(req: FakeRequest): FakeReply {
    const call = req.json<{
      id?: unknown;
      params?: { service?: string; method?: string; args?: unknown[] };
    }>();
    const id = call?.id ?? null;
    const ok = (result: unknown): FakeReply => ({ body: { jsonrpc: '2.0', id, result } });
    const fail = (err: OdooException): FakeReply => ({
      body: {
        jsonrpc: '2.0',
        id,
        error: {
          code: 200,
          message: 'Odoo Server Error',
          data: {
            name: err.odooName,
            debug: `${DEBUG_MARKER}\n${err.odooName}: ${err.message}`,
            message: err.message,
            arguments: [err.message],
            context: {},
          },
        },
      },
    });
    const { service, method, args = [] } = call?.params ?? {};
    try {
      if (service === 'common' && method === 'version') return ok(this.versionInfo());
      if (service === 'db' && method === 'list') {
        if (!this.listDatabases) throw new OdooException('odoo.exceptions.AccessDenied', 'Access Denied');
        return ok(this.databases);
      }
      if (service === 'common' && (method === 'authenticate' || method === 'login')) {
        const [db, login, key] = args as [string, string, string];
        this.checkDb(db);
        const uid = this.keys.get(key);
        const user = uid ? this.orm.users.get(uid) : undefined;
        return ok(user && user.login === login ? uid : false);
      }
      if (service === 'object' && method === 'execute_kw') {
        const [db, uid, key, model, name, positional = [], kwargs = {}] = args as [
          string,
          number,
          string,
          string,
          string,
          unknown[],
          Record<string, unknown>,
        ];
        this.checkDb(db);
        if (!uid || this.keys.get(key) !== uid)
          throw new OdooException('odoo.exceptions.AccessDenied', 'Access Denied');
        this.orm.model(model);
        const params = METHOD_PARAMS[name];
        const { context, ...named } = kwargs;
        const rest = RECORD_METHODS.has(name) ? positional.slice(1) : positional;
        const ids = RECORD_METHODS.has(name) ? (positional[0] as number[]) : undefined;
        if (params) rest.forEach((value, i) => (named[params[i] ?? `arg${i}`] = value));
        return ok(
          this.dispatch(model, name, ids, named, {
            uid,
            context: (context as Record<string, unknown>) ?? {},
          }),
        );
      }
      throw new OdooException('builtins.KeyError', `'${String(service)}.${String(method)}'`);
    } catch (err) {
      if (err instanceof OdooException) return fail(err);
      throw err;
    }
  }

  private checkDb(db: string): void {
    if (!this.databases.includes(db)) {
      throw new OdooException(
        'psycopg2.OperationalError',
        `connection to server at "localhost" (127.0.0.1), port 5432 failed: FATAL:  database "${db}" does not exist\n`,
      );
    }
  }

  // ---- the ORM, as both protocols reach it -------------------------------------------------------

  private dispatch(
    model: string,
    method: string,
    ids: number[] | undefined,
    kwargs: Record<string, unknown>,
    env: Env,
  ): unknown {
    const fault = this.faults.find(
      (f) => f.left > 0 && (!f.model || f.model === model) && (!f.method || f.method === method),
    );
    if (fault) {
      fault.left--;
      throw new InjectedException(fault);
    }
    if (method.startsWith('_')) {
      throw accessError(`Private methods (such as '${model}.${method}') cannot be called remotely.`);
    }
    const params = METHOD_PARAMS[method];
    if (!params || (method === 'formatted_read_group' && this.major < 19)) {
      throw new OdooException(
        'builtins.AttributeError',
        `The method '${method}' does not exist on the model '${model}'`,
      );
    }
    const unknown = Object.keys(kwargs).find((k) => !params.includes(k));
    if (unknown) {
      throw new OdooException(
        'builtins.TypeError',
        `${method}() got an unexpected keyword argument '${unknown}'`,
      );
    }
    const orm = this.orm;
    orm.calls.push({
      model,
      method,
      uid: env.uid,
      args: { ...(ids ? { ids } : {}), ...kwargs, context: env.context },
    });
    const k = kwargs as Record<string, never>;
    switch (method) {
      case 'fields_get':
        return orm.fieldsGet(model, k.attributes);
      case 'context_get': {
        const user = orm.users.get(env.uid)!;
        return { lang: user.lang, tz: user.tz, uid: env.uid };
      }
      case 'search_read':
        orm.checkAccess(model, 'read', env);
        return orm.searchRead(model, k, env);
      case 'search_count': {
        orm.checkAccess(model, 'read', env);
        const n = orm.search(model, k.domain ?? [], env).length;
        return k.limit ? Math.min(n, k.limit) : n;
      }
      case 'search': {
        orm.checkAccess(model, 'read', env);
        const rows = orm.search(model, k.domain ?? [], env, k.order ?? undefined);
        const offset = (k.offset as number | undefined) ?? 0;
        return rows.slice(offset, k.limit ? offset + (k.limit as number) : undefined).map((r) => r.id);
      }
      case 'read':
        orm.checkAccess(model, 'read', env);
        return orm.read(model, ids ?? [], k.fields, env);
      case 'read_group':
        orm.checkAccess(model, 'read', env);
        return orm.readGroup(model, k, env);
      case 'formatted_read_group':
        orm.checkAccess(model, 'read', env);
        return orm.formattedReadGroup(model, k, env);
      case 'create': {
        orm.checkAccess(model, 'create', env);
        const list = Array.isArray(k.vals_list)
          ? (k.vals_list as Array<Record<string, unknown>>)
          : [(k.vals_list ?? {}) as Record<string, unknown>];
        const created = orm.create(model, list, env);
        return Array.isArray(k.vals_list) ? created : created[0];
      }
      case 'write':
        orm.checkAccess(model, 'write', env);
        return orm.write(model, ids ?? [], (k.vals ?? {}) as Record<string, unknown>, env);
      case 'unlink':
        orm.checkAccess(model, 'unlink', env);
        return orm.unlink(model, ids ?? [], env);
      default:
        throw new OdooException(
          'builtins.AttributeError',
          `The method '${method}' does not exist on the model '${model}'`,
        );
    }
  }
}
