/**
 * A fake Odoo server on testkit's FakeService, answering as Odoo's own source does, per version (17.0, 18.0, 19.0,
 * saas~19.1, 20.0). Every shape and message comes from shapes.ts, which names the Odoo file it is taken from:
 * - `GET /web/version`, `/json/version` (19+ only; addons/rpc/controllers/__init__.py);
 * - JSON-RPC `POST /jsonrpc`: the route is odoo/addons/base/controllers/rpc.py (type='json') in 17.0 and 18.0,
 *   addons/rpc/controllers/jsonrpc.py (type='jsonrpc') from 19.0, both `dispatch_rpc(service, method, args)`;
 *   services common / db / object (odoo/service/common.py, db.py, model.py; errors from
 *   `JsonRPCDispatcher.handle_error` in odoo/http.py); on 20 gated by `rpc.use_deprecated_services`
 *   (addons/rpc/controllers/jsonrpc.py); no `db` service from 19.1;
 * - JSON-2 `POST /json/2/<model>/<method>` (19+; addons/rpc/controllers/json2.py), bearer API keys checked with
 *   the 'rpc' scope (`_auth_method_bearer`, odoo/addons/base/models/ir_http.py: a key without a scope or bound
 *   to 'rpc' passes).
 */
import { FakeService, type FakeRequest, type FakeReply } from '@switchyard/testkit';
import { buildCompany } from './company.js';
import { METHOD_PARAMS, OdooException, Orm, RECORD_METHODS, accessError, type Env } from './orm.js';
import {
  DEBUG_MARKER,
  HTTP_STATUS,
  NOT_FOUND_DESCRIPTION,
  NOT_FOUND_HTML,
  NOT_FOUND_NODB_HTML,
  accessDenied,
  commonVersionBody,
  invalidApiKey,
  json2BadArgument,
  json2UnknownModel,
  jsonRpcError,
  listDbDisabled,
  noDatabase,
  privateMethod,
  profileOf,
  rpcUnknownModel,
  serializeException,
  unknownMethod,
  unknownService,
  webVersionBody,
  werkzeug,
  type Raised,
  type VersionProfile,
} from './shapes.js';

export { DEBUG_MARKER };

export interface FakeOdooOptions {
  /** As Odoo reports it: "17.0", "18.0", "19.0", "saas~19.1", "20.0" (also "16.0", "15.0" for refusals). */
  version?: string;
  databases?: string[];
  /** db.list answers (list_db = True); otherwise it is refused. */
  listDatabases?: boolean;
  /** Odoo 20: the system parameter `rpc.use_deprecated_services` that keeps /jsonrpc's object service on. */
  deprecatedRpc?: boolean;
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

const raise = (e: Raised) =>
  new OdooException(e.name, e.message, { status: e.status, arguments: e.arguments, headers: e.headers });

const HTML_404: FakeReply = {
  status: 404,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: NOT_FOUND_HTML,
};

export class FakeOdoo {
  readonly service: FakeService;
  readonly orm: Orm;
  readonly profile: VersionProfile;
  readonly version: string;
  readonly major: number;
  readonly minor: number;
  readonly databases: string[];
  listDatabases: boolean;
  deprecatedRpc: boolean;
  /** API key → uid. */
  readonly keys = new Map<string, number>();
  /** API key → its scope (`res.users.apikeys.scope`); null = a key made without one. */
  readonly keyScopes = new Map<string, string | null>();
  readonly adminKey = 'odoo-admin-key-7d1f00c2a9e84b6b';
  readonly salesKey = 'odoo-sales-key-41b9aa0e5c2d4f83';
  readonly notzKey = 'odoo-notz-key-5e6a1b2c3d4e5f60';
  private faults: Array<InjectedFault & { left: number }> = [];

  private constructor(service: FakeService, options: FakeOdooOptions) {
    this.service = service;
    this.version = options.version ?? '19.0';
    this.profile = profileOf(this.version);
    this.major = this.profile.major;
    this.minor = this.profile.minor;
    this.databases = options.databases ?? ['acme'];
    this.listDatabases = options.listDatabases ?? true;
    this.deprecatedRpc = options.deprecatedRpc ?? false;
    this.orm = new Orm(this.major);
    buildCompany(this.orm, {
      major: this.major,
      hireDateField: options.hireDateField ?? true,
      now: options.now ?? new Date(),
    });
    // Keys made in the Preferences wizard without choosing a scope (shapes.ts `keyScopeChooser`).
    const scope = null;
    for (const [key, uid] of [
      [this.adminKey, 2],
      [this.salesKey, 6],
      [this.notzKey, 8],
    ] as const) {
      this.keys.set(key, uid);
      this.keyScopes.set(key, scope);
    }
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

  /**
   * The uid of a key checked for the 'rpc' scope, as `res.users.apikeys._check_credentials(scope='rpc', key)`
   * does on every version: a key without a scope or bound to 'rpc' (res_users.py up to 19.0, res_users_apikeys.py
   * `_match_key` in the newest stored master).
   */
  private uidOfKey(key: string): number | undefined {
    const uid = this.keys.get(key);
    if (uid === undefined) return undefined;
    const scope = this.keyScopes.get(key) ?? null;
    const ok = scope === null || scope === 'rpc';
    return ok ? uid : undefined;
  }

  close(): Promise<void> {
    return this.service.close();
  }

  private routes(): void {
    const version = () => (this.profile.webVersion ? { body: webVersionBody(this.profile) } : HTML_404);
    this.service.route('GET', '/web/version', version);
    this.service.route('GET', '/json/version', version);
    this.service.route('POST', '/jsonrpc', (req) => this.jsonRpc(req));
    this.service.route('POST', '/json/2/:model/:method', (req) => this.json2(req));
  }

  // ---- JSON-2 (addons/rpc/controllers/json2.py) ------------------------------------------------------

  private json2(req: FakeRequest): FakeReply {
    if (!this.profile.json2) return HTML_404;
    const header = req.headers['x-odoo-database'];
    const db =
      typeof header === 'string' ? header : this.databases.length === 1 ? this.databases[0] : undefined;
    // Without a known database, odoo/http.py serves from the no-database routing map, where no JSON-2 route
    // exists: `_serve_nodb`'s HTML 404 page (shapes.ts NOT_FOUND_NODB_HTML).
    if (!db || !this.databases.includes(db)) return { ...HTML_404, body: NOT_FOUND_NODB_HTML };
    const auth = /^bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    const uid = auth ? this.uidOfKey(auth[1]!.trim()) : undefined;
    if (!uid) return this.json2Error(raise(invalidApiKey()));
    const { model, method } = req.params as { model: string; method: string };
    if (!this.orm.models.has(model)) return this.json2Error(raise(json2UnknownModel(model)));
    let body: Record<string, unknown>;
    try {
      body = (req.json<Record<string, unknown>>() ?? {}) as Record<string, unknown>;
    } catch (err) {
      return this.json2Error(
        raise(werkzeug('BadRequest', `could not parse the body as json: ${(err as Error).message}`)),
      );
    }
    const { ids, context, ...kwargs } = body;
    try {
      const result = this.dispatch(
        model,
        method,
        (ids as number[] | undefined) ?? undefined,
        kwargs,
        { uid, context: (context as Record<string, unknown>) ?? {} },
        'json2',
      );
      return { body: result ?? null };
    } catch (err) {
      if (!(err instanceof OdooException)) throw err;
      // An unknown method is an AttributeError turned into NotFound(exc.args[0]); a bad keyword argument an
      // UnprocessableEntity (json2.py `web_json_2_rpc`).
      if (err.odooName === 'builtins.AttributeError')
        return this.json2Error(raise(werkzeug('NotFound', err.message)));
      return this.json2Error(err);
    }
  }

  /** `Json2RpcDispatcher.handle_error` (json2.py): status from `http_status` or the werkzeug code, else 500. */
  private json2Error(err: OdooException): FakeReply {
    let status = err.extra.status ?? HTTP_STATUS[err.odooName] ?? 500;
    let headers = err.extra.headers;
    if (err instanceof InjectedException && err.fault.status) {
      status = err.fault.status;
      if (err.fault.retryAfter !== undefined) headers = { 'retry-after': String(err.fault.retryAfter) };
    }
    return {
      status,
      ...(headers ? { headers } : {}),
      body: serializeException({ name: err.odooName, message: err.message, arguments: err.extra.arguments }),
    };
  }

  // ---- JSON-RPC (odoo/http.py dispatch_rpc; addons/rpc/controllers/jsonrpc.py from 19) -----------------

  private jsonRpc(req: FakeRequest): FakeReply {
    const call = req.json<{
      id?: unknown;
      params?: { service?: string; method?: string; args?: unknown[] };
    }>();
    const id = call?.id ?? null;
    const ok = (result: unknown): FakeReply => ({ body: { jsonrpc: '2.0', id, result } });
    const { service, method, args = [] } = call?.params ?? {};
    try {
      const signsIn = service === 'common' && (method === 'authenticate' || method === 'login');
      if (this.profile.rpcNeedsParameter && (service === 'object' || signsIn)) {
        this.checkDb(args[0] as string);
        if (!this.deprecatedRpc) {
          throw raise({ ...werkzeug('NotFound', NOT_FOUND_DESCRIPTION), arguments: [NOT_FOUND_DESCRIPTION] });
        }
      }
      if (service === 'common' && method === 'version') return ok(commonVersionBody(this.profile));
      if (service === 'db') {
        if (!this.profile.dbService) throw raise(unknownService('db'));
        if (method === 'list') {
          if (!this.listDatabases) throw raise(listDbDisabled());
          return ok(this.databases);
        }
      }
      if (signsIn) {
        // odoo/service/common.py `exp_authenticate`: the uid, or False when res.users.authenticate refuses.
        const [db, login, key] = args as [string, string, string];
        this.checkDb(db);
        const uid = this.uidOfKey(key);
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
        // odoo/service/model.py `dispatch` → odoo/service/security.py `check`: AccessDenied for a bad key.
        if (!uid || this.uidOfKey(key) !== uid) throw raise(accessDenied());
        if (!this.orm.models.has(model)) throw raise(rpcUnknownModel(model));
        const params = METHOD_PARAMS[name];
        const { context, ...named } = kwargs;
        const rest = RECORD_METHODS.has(name) ? positional.slice(1) : positional;
        const ids = RECORD_METHODS.has(name) ? (positional[0] as number[]) : undefined;
        if (params) rest.forEach((value, i) => (named[params[i] ?? `arg${i}`] = value));
        return ok(
          this.dispatch(
            model,
            name,
            ids,
            named,
            {
              uid,
              context: (context as Record<string, unknown>) ?? {},
            },
            'jsonrpc',
          ),
        );
      }
      if (service === 'common') {
        // odoo/service/common.py `dispatch`: `raise Exception("Method not found: %s" % method)`.
        throw new OdooException('builtins.Exception', `Method not found: ${String(method)}`);
      }
      throw raise(unknownService(String(service)));
    } catch (err) {
      if (err instanceof OdooException) {
        return {
          body: jsonRpcError(this.profile, id, {
            name: err.odooName,
            message: err.message,
            arguments: err.extra.arguments,
          }),
        };
      }
      throw err;
    }
  }

  private checkDb(db: string): void {
    if (!this.databases.includes(db)) throw raise(noDatabase(db));
  }

  // ---- the ORM, as both protocols reach it -------------------------------------------------------

  private dispatch(
    model: string,
    method: string,
    ids: number[] | undefined,
    kwargs: Record<string, unknown>,
    env: Env,
    via: 'json2' | 'jsonrpc',
  ): unknown {
    const fault = this.faults.find(
      (f) => f.left > 0 && (!f.model || f.model === model) && (!f.method || f.method === method),
    );
    if (fault) {
      fault.left--;
      throw new InjectedException(fault);
    }
    if (method.startsWith('_')) throw accessError(privateMethod(this.major, model, method));
    const params = METHOD_PARAMS[method];
    if (
      !params ||
      (method === 'formatted_read_group' && !this.profile.formattedReadGroup) ||
      (method === 'read_group' && !this.profile.readGroup)
    ) {
      throw raise(unknownMethod(this.profile, model, method));
    }
    const unknown = Object.keys(kwargs).find((k) => !params.includes(k));
    if (unknown) {
      // JSON-2 binds the signature first (json2.py): 422. Over JSON-RPC, Python's own TypeError.
      throw via === 'json2'
        ? raise(json2BadArgument(unknown))
        : new OdooException(
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
        return orm.fieldsGet(model, k.attributes, env);
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
        throw raise(unknownMethod(this.profile, model, method));
    }
  }
}
