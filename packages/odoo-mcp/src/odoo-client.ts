/**
 * One client over Odoo's two external APIs: JSON-2 (Odoo 19+) and JSON-RPC (Odoo ≤ 18), both sent by
 * ./transport.ts. The protocol is chosen once per connection from the server version (./version.ts), unless forced;
 * this file holds the session (sign-in, database, the user's context), the calls on it and what it caches.
 */
import {
  AuthError,
  CancelledError,
  NotFoundError,
  UpstreamError,
  UserInputError,
  registerSecret,
  type Logger,
} from '@switchyard/core';
import { isTimeZone, machineTimeZone } from '@switchyard/core';
import { OdooFaultError, authFailure, faultToError, unknownModel, type AuthContext } from './errors.js';
import { OdooTransport, type Protocol } from './transport.js';
import { JSON2_MAJOR, MIN_MAJOR, probeVersion, versionUnder, type ServerVersion } from './version.js';

export interface OdooSettings {
  url: string;
  db?: string | undefined;
  username?: string | undefined;
  apiKey: string;
  /** When the API key expires ("YYYY-MM-DD"), if the user told us. */
  keyExpires?: string | undefined;
  /** Forced protocol; detected from the version when absent. */
  protocol?: Protocol | undefined;
  timeoutMs?: number | undefined;
}

export interface OdooSession {
  version: ServerVersion;
  protocol: Protocol;
  forced: boolean;
  db: string | undefined;
  uid: number;
  /** The Odoo user's time zone, or the machine's when the user has none. */
  tz: string;
  tzFromUser: boolean;
  lang: string;
}

export interface FieldInfo {
  string: string;
  type: string;
  relation?: string;
  required?: boolean;
  readonly?: boolean;
  store?: boolean;
  selection?: Array<[string, string]>;
  help?: string;
}
export type FieldMap = Record<string, FieldInfo>;

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Changes data: not retried, and cancellation is reported as possibly applied. */
  write?: boolean;
  /** Extra context keys (e.g. `location` for stock quantities). */
  context?: Record<string, unknown>;
}

export interface OdooClientOptions {
  /** Resolved on first use, so that a server only listing its tools never touches the keychain. */
  settings: () => Promise<OdooSettings>;
  log: Logger;
  userAgent: string;
  loginCommand: string;
}

/** Methods whose answer may carry binary fields: they are asked for sizes, not content. */
const SIZE_ONLY_METHODS = new Set(['read', 'search_read']);

const FIELD_ATTRIBUTES = ['string', 'type', 'relation', 'required', 'readonly', 'store', 'selection', 'help'];

export class OdooClient {
  private readonly options: OdooClientOptions;
  private readonly log: Logger;
  private settingsPromise: Promise<OdooSettings> | undefined;
  private wire: OdooTransport | undefined;
  private sessionPromise: Promise<OdooSession> | undefined;
  private readonly fieldCache = new Map<string, Promise<FieldMap>>();
  private currencyPromise: Promise<{ id: number; name: string }> | undefined;
  /** The version once detected, for error sentences that depend on it. */
  private knownVersion: ServerVersion | undefined;

  constructor(options: OdooClientOptions) {
    this.options = options;
    this.log = options.log;
  }

  async settings(): Promise<OdooSettings> {
    this.settingsPromise ??= this.options.settings().catch((err: unknown) => {
      this.settingsPromise = undefined;
      throw err;
    });
    return this.settingsPromise;
  }

  private async transport(): Promise<OdooTransport> {
    if (this.wire) return this.wire;
    const settings = await this.settings();
    registerSecret(settings.apiKey);
    this.wire = OdooTransport.create({
      url: settings.url,
      userAgent: this.options.userAgent,
      log: this.log,
      timeoutMs: settings.timeoutMs ?? 60_000,
    });
    return this.wire;
  }

  private authContext(settings: OdooSettings, protocol: Protocol, db?: string): AuthContext {
    const v = this.knownVersion;
    return {
      protocol,
      keyScopes: v && !v.assumed ? v.major > 19 || (v.major === 19 && v.minor >= 1) : undefined,
      username: settings.username,
      db: db ?? settings.db,
      keyExpires: settings.keyExpires,
      loginCommand: this.options.loginCommand,
    };
  }

  /** The server version, without signing in (./version.ts). */
  async serverVersion(signal?: AbortSignal): Promise<ServerVersion> {
    return probeVersion(await this.transport(), signal);
  }

  /** Connect once: version, protocol, sign-in (JSON-RPC), and the user's context. */
  session(signal?: AbortSignal): Promise<OdooSession> {
    this.sessionPromise ??= this.connect(signal).catch(async (err: unknown) => {
      this.sessionPromise = undefined;
      if (err instanceof OdooFaultError) {
        const settings = await this.settings();
        throw faultToError(
          err.fault,
          { model: 'res.users', method: 'context_get' },
          this.authContext(settings, settings.protocol ?? 'json2'),
        );
      }
      throw err;
    });
    return this.sessionPromise;
  }

  private async connect(signal?: AbortSignal): Promise<OdooSession> {
    const settings = await this.settings();
    const host = new URL(settings.url).host;
    // A configured protocol needs no probe: the version is then only known where the protocol tells it.
    const version = settings.protocol
      ? await versionUnder(settings.protocol, await this.transport(), this.log, signal)
      : await this.serverVersion(signal);
    this.knownVersion = version;
    if (version.major < MIN_MAJOR) {
      throw new UpstreamError(
        `Odoo at ${host} runs version ${version.version}, which odoo-mcp does not support; it needs Odoo ${MIN_MAJOR}.0 or newer`,
        { hint: 'Upgrade Odoo, or use its web interface for this database' },
      );
    }
    const protocol = settings.protocol ?? (version.major >= JSON2_MAJOR ? 'json2' : 'jsonrpc');
    if (protocol === 'json2' && version.major < JSON2_MAJOR) {
      throw new UserInputError(
        `Odoo ${version.version} at ${host} has no JSON-2 API (it arrived in Odoo ${JSON2_MAJOR}.0), so --protocol json2 cannot work`,
        { hint: 'Remove --protocol json2 (or ODOO_PROTOCOL) to use JSON-RPC' },
      );
    }
    let db = settings.db;
    let uid: number | undefined;
    if (protocol === 'jsonrpc') {
      if (!settings.username) {
        throw new UserInputError(
          `Odoo ${version.version} is reached over JSON-RPC, which signs in with a login: ODOO_USERNAME is not set`,
          {
            hint: `Set ODOO_USERNAME to the user's login, or run \`${this.options.loginCommand} --username <login>\``,
          },
        );
      }
      db ??= await this.onlyDatabase(host, signal);
      const auth = this.authContext(settings, protocol, db);
      const wire = await this.transport();
      const result = await wire
        .rpc(
          { service: 'common', method: 'authenticate', args: [db, settings.username, settings.apiKey, {}] },
          signal,
          true,
          { model: 'res.users', method: 'authenticate' },
        )
        .catch(async (err: unknown) => {
          const mapped =
            err instanceof OdooFaultError
              ? faultToError(err.fault, { model: 'res.users', method: 'authenticate' }, auth)
              : err;
          throw await this.explainDatabase(mapped, db, host, signal);
        });
      if (typeof result !== 'number' || result <= 0) {
        throw authFailure(this.authContext(settings, protocol, db), 'authenticate answered false');
      }
      uid = result;
    }
    const partial = { version, protocol, forced: Boolean(settings.protocol), db, uid: uid ?? 0 };
    // `res.users.context_get` answers {lang, tz, uid} (odoo/addons/base/models/res_users.py).
    const context = (await this.invoke(partial, 'res.users', 'context_get', {}, { signal }).catch(
      async (err: unknown) => {
        throw await this.explainDatabase(err, db, host, signal);
      },
    )) as { uid?: number; tz?: string | false; lang?: string } | undefined;
    const userTz = context?.tz || undefined;
    const machineTz = machineTimeZone();
    const session: OdooSession = {
      ...partial,
      uid: uid ?? context?.uid ?? 0,
      tz: isTimeZone(userTz) ? userTz : machineTz,
      tzFromUser: isTimeZone(userTz),
      lang: context?.lang || 'en_US',
    };
    if (protocol === 'jsonrpc' && version.major >= JSON2_MAJOR) {
      this.log.warn(
        `Odoo ${version.version} deprecates JSON-RPC (removed in Odoo 22); drop --protocol jsonrpc to use JSON-2`,
      );
    }
    this.log.info(
      `connected to Odoo ${version.version} at ${host} over ${protocol === 'json2' ? 'JSON-2' : 'JSON-RPC'} as uid ${session.uid}`,
    );
    return session;
  }

  /**
   * The real version after a forced protocol connected without a probe (for `status` and `login`): one
   * `GET /web/version` now that the connection works, whose failure changes nothing. The connection never
   * waits on it before its first call.
   */
  async refineVersion(signal?: AbortSignal): Promise<ServerVersion | undefined> {
    const session = await this.session(signal);
    if (!session.version.assumed) return session.version;
    try {
      const found = await this.serverVersion(signal);
      if (found.major < JSON2_MAJOR && session.protocol === 'json2') return undefined;
      session.version = found;
      this.knownVersion = found;
      return found;
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      this.log.debug('the version could not be read after connecting; it stays as the protocol implies');
      return undefined;
    }
  }

  /** Without ODOO_DB, a JSON-RPC sign-in needs the one database the server lists. */
  private async onlyDatabase(host: string, signal?: AbortSignal): Promise<string> {
    const list = await this.listDatabases(signal);
    if (list && list.length === 1) return list[0]!;
    throw new UserInputError(
      list && list.length > 1
        ? `Odoo at ${host} hosts several databases (${list.join(', ')}): ODOO_DB must name one`
        : `Odoo at ${host} does not list its databases, so ODOO_DB must name the one to use`,
      { hint: `Set ODOO_DB, or run \`${this.options.loginCommand} --db <name>\`` },
    );
  }

  /**
   * The `db` service is gone from Odoo Online 19.1 and Odoo 20 (`dispatch_rpc('db', ...)` is a KeyError): once the
   * version says so, it is never called.
   */
  private dbServiceGone(): boolean {
    const v = this.knownVersion;
    return Boolean(v && !v.assumed && (v.major > 19 || (v.major === 19 && v.minor >= 1)));
  }

  /** The databases the server lists, or undefined when listing is disabled or the service is gone. */
  async listDatabases(signal?: AbortSignal): Promise<string[] | undefined> {
    if (this.dbServiceGone()) return undefined;
    try {
      const wire = await this.transport();
      const list = await wire.rpc({ service: 'db', method: 'list', args: [] }, signal, true);
      return Array.isArray(list) ? list.map(String) : undefined;
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      return undefined;
    }
  }

  /** A failure at sign-in may mean the database does not exist: say so when the server can tell. */
  private async explainDatabase(
    err: unknown,
    db: string | undefined,
    host: string,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const said404 = err instanceof UpstreamError && /HTTP 404/.test(err.message);
    const saidNoDb = err instanceof NotFoundError && /no database/.test(err.message);
    if (!(said404 || saidNoDb)) return err;
    if (said404 && this.knownVersion?.assumed && (await this.settings()).protocol === 'json2') {
      // Forced JSON-2 skipped the version check; now that it failed, the version can say why.
      const found = await this.serverVersion(signal).catch(() => undefined);
      if (found) this.knownVersion = found;
      if (found && found.major < JSON2_MAJOR) {
        return new UserInputError(
          `Odoo ${found.version} at ${host} has no JSON-2 API (it arrived in Odoo ${JSON2_MAJOR}.0), so --protocol json2 cannot work`,
          { hint: 'Remove --protocol json2 (or ODOO_PROTOCOL) to use JSON-RPC' },
        );
      }
    }
    const list = await this.listDatabases(signal);
    if (!db) {
      return list && list.length > 1
        ? new UserInputError(
            `Odoo at ${host} hosts several databases (${list.join(', ')}): ODOO_DB must name one`,
            {
              hint: `Set ODOO_DB, or run \`${this.options.loginCommand} --db <name>\``,
            },
          )
        : err;
    }
    const hint = list ? `Set ODOO_DB to one of: ${list.join(', ') || '(none)'}` : 'Check ODOO_DB';
    if ((list && !list.includes(db)) || saidNoDb) {
      return new NotFoundError(`Odoo at ${host} has no database '${db}'`, { hint });
    }
    if (list) return err; // the database exists: the 404 means something else
    return new NotFoundError(
      `Odoo at ${host} answered 404 for the JSON-2 API of database '${db}'; the database probably does not exist`,
      { hint },
    );
  }

  /**
   * Call an ORM method with named parameters; `ids` become the records it runs on. The same call goes
   * out as JSON-2 or as JSON-RPC `execute_kw`.
   */
  async call<T = unknown>(
    model: string,
    method: string,
    params: Record<string, unknown> & { ids?: number[] },
    options: CallOptions = {},
  ): Promise<T> {
    const session = await this.session(options.signal);
    return (await this.invoke(session, model, method, params, options)) as T;
  }

  private async invoke(
    session: Pick<OdooSession, 'protocol' | 'db' | 'uid'> & Partial<OdooSession>,
    model: string,
    method: string,
    params: Record<string, unknown> & { ids?: number[] },
    options: CallOptions,
  ): Promise<unknown> {
    const settings = await this.settings();
    const wire = await this.transport();
    const { ids, ...named } = params;
    const context = {
      ...(session.lang ? { lang: session.lang } : {}),
      ...(session.tz ? { tz: session.tz } : {}),
      // Binary fields (ir.attachment.datas, image_1920, ...) read as their size ("19.54 Kb"), never as base64
      // content: `bin_size` in the context, honoured the same way on 17.0 to the newest master
      // (ir_attachment.py `_compute_datas`, Binary in odoo/fields.py / odoo/orm/fields_binary.py).
      ...(SIZE_ONLY_METHODS.has(method) ? { bin_size: true } : {}),
      ...options.context,
    };
    const idempotent = !options.write;
    const info = { model, method, ids };
    try {
      return await wire.orm(
        session,
        settings.apiKey,
        { model, method, ids, named, context },
        { signal: options.signal, idempotent },
      );
    } catch (err) {
      if (err instanceof OdooFaultError) {
        const mapped = faultToError(
          err.fault,
          info,
          this.authContext(settings, session.protocol, session.db),
        );
        // A refused key may be replaced (login, env): sign in afresh on the next call.
        if (mapped instanceof AuthError) this.sessionPromise = undefined;
        throw mapped;
      }
      if (err instanceof CancelledError && options.write) {
        throw new CancelledError(
          `The call was cancelled while Odoo was running ${model}.${method}; Odoo may still have applied the change, so check the records before trying again.`,
        );
      }
      throw err;
    }
  }

  /** `fields_get` of a model, cached for the connection. An unknown model is answered with close names. */
  fields(model: string, signal?: AbortSignal): Promise<FieldMap> {
    let cached = this.fieldCache.get(model);
    if (!cached) {
      cached = this.call<FieldMap>(model, 'fields_get', { attributes: FIELD_ATTRIBUTES }, { signal }).catch(
        async (err: unknown) => {
          this.fieldCache.delete(model);
          if (err instanceof NotFoundError && /no model/.test(err.message)) {
            throw unknownModel(model, await this.similarModels(model, signal));
          }
          throw err;
        },
      );
      this.fieldCache.set(model, cached);
    }
    return cached;
  }

  private async similarModels(model: string, signal?: AbortSignal): Promise<string[]> {
    const words = model.split(/[._\s]+/).filter((w) => w.length >= 3);
    if (words.length === 0) return [];
    const domain: unknown[] = [];
    for (let i = 1; i < words.length; i++) domain.push('|');
    for (const w of words) domain.push(['model', 'ilike', w]);
    try {
      const rows = await this.call<Array<{ model: string }>>(
        'ir.model',
        'search_read',
        { domain, fields: ['model'], limit: 8, order: 'model' },
        { signal },
      );
      return rows.map((r) => r.model);
    } catch {
      return [];
    }
  }

  /** The company currency of the signed-in user, e.g. `{id: 1, name: "EUR"}`. */
  companyCurrency(signal?: AbortSignal): Promise<{ id: number; name: string }> {
    this.currencyPromise ??= (async () => {
      const session = await this.session(signal);
      const [user] = await this.call<Array<{ company_id: [number, string] | false }>>(
        'res.users',
        'read',
        { ids: [session.uid], fields: ['company_id'] },
        { signal },
      );
      if (!user?.company_id) throw new UpstreamError('Odoo did not say which company the user works in');
      const [company] = await this.call<Array<{ currency_id: [number, string] | false }>>(
        'res.company',
        'read',
        { ids: [user.company_id[0]], fields: ['currency_id'] },
        { signal },
      );
      if (!company?.currency_id) throw new UpstreamError('Odoo did not say which currency the company uses');
      return { id: company.currency_id[0], name: company.currency_id[1] };
    })().catch((err: unknown) => {
      this.currencyPromise = undefined;
      throw err;
    });
    return this.currencyPromise;
  }
}
