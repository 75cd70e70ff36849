/**
 * What a real Odoo answers, per version, taken from Odoo's own source (odoo/odoo), never from our client.
 * Each shape names the file it comes from; the fake server (odoo.ts) and the fake ORM (orm.ts) only use these.
 *
 * Versions: 17.0, 18.0, 19.0, saas~19.1 (Odoo Online), 20.0. A `saas~X.Y` version is written as Odoo's
 * `odoo/release.py` writes it: `version_info = ('saas~19', 1, 0, 'final', 0, '')`, `version = 'saas~19.1'`.
 */

export interface VersionProfile {
  /** `odoo.release.version`, e.g. "19.0", "saas~19.1". */
  version: string;
  /** `odoo.release.version_info` as JSON: a tuple becomes a list (odoo/release.py). */
  versionInfo: [number | string, number, number, string, number, string];
  major: number;
  minor: number;
  /**
   * `GET /web/version` and `/json/version` answer `{version_info, version}`: the `RPC.version` route of
   * addons/rpc/controllers/__init__.py (19.0 onwards). 17.0 and 18.0 have no such route: their
   * addons/web/controllers/webclient.py only offers `/web/webclient/version_info` (a JSON-RPC route), so a
   * GET on /web/version is werkzeug's 404 page.
   */
  webVersion: boolean;
  /** `POST /json/2/<model>/<method>`: addons/rpc/controllers/json2.py (19.0 onwards). */
  json2: boolean;
  /**
   * The `db` service of `dispatch_rpc` (odoo/http.py, `rpc_dispatchers`, backed by odoo/service/db.py) is gone on
   * Odoo Online 19.1 and Odoo 20: `dispatch_rpc('db', ...)` raises `KeyError('db')`.
   */
  dbService: boolean;
  /**
   * Odoo 20: addons/rpc/controllers/jsonrpc.py answers `object.*` and `common.login/authenticate` only when the
   * system parameter `rpc.use_deprecated_services` is set; otherwise `request.not_found()`.
   */
  rpcNeedsParameter: boolean;
  /**
   * Odoo 19.1 onwards lets a user bind a new key to one scope ("door") in the New API Key wizard
   * (`res.users.apikeys.description.scope_id`, odoo/addons/base/models/res_users_apikeys.py of the newest stored
   * master); up to 19.0 the wizard makes keys without a scope. On every version the check is the same
   * (`_check_credentials(scope='rpc', key)`): a key without a scope, or bound to 'rpc', passes; a key bound to
   * another scope is refused like a wrong one — 17.0–19.0 res_users.py `WHERE ... (scope IS NULL OR scope = %s)`,
   * newest master `_match_key`: `(k.scope_id IS NULL OR s.key = %s)`.
   */
  keyScopeChooser: boolean;
  /** `formatted_read_group` exists (odoo/models.py, 19.0 onwards); `read_group` stays (deprecated) until 20. */
  formattedReadGroup: boolean;
  readGroup: boolean;
  /** JSON-RPC route type: 'json' up to 18.0, renamed 'jsonrpc' in 19.0 (odoo/http.py `JsonRPCDispatcher`); same wire. */
}

export function profileOf(version: string): VersionProfile {
  const m = /^(saas~)?(\d+)\.(\d+)/.exec(version);
  if (!m) throw new Error(`not an Odoo version: ${version}`);
  const saas = Boolean(m[1]);
  const major = Number(m[2]);
  const minor = Number(m[3]);
  const atLeast = (maj: number, min = 0) => major > maj || (major === maj && minor >= min);
  return {
    version,
    versionInfo: [saas ? `saas~${major}` : major, minor, 0, 'final', 0, ''],
    major,
    minor,
    webVersion: atLeast(19),
    json2: atLeast(19),
    dbService: !atLeast(19, 1),
    rpcNeedsParameter: atLeast(20),
    keyScopeChooser: atLeast(19, 1),
    formattedReadGroup: atLeast(19),
    readGroup: !atLeast(20),
  };
}

/** `GET /web/version` from 19.0: exactly these two keys (addons/rpc/controllers/__init__.py, `RPC.version`). */
export function webVersionBody(p: VersionProfile): Record<string, unknown> {
  return { version_info: p.versionInfo, version: p.version };
}

/** JSON-RPC `common.version`: `RPC_VERSION_1` of odoo/service/common.py (every version). */
export function commonVersionBody(p: VersionProfile): Record<string, unknown> {
  return {
    server_version: p.version,
    server_version_info: p.versionInfo,
    server_serie: p.version,
    protocol_version: 1,
  };
}

/** werkzeug's default 404 page, as Odoo serves it for an unknown route (werkzeug/exceptions.py `NotFound`). */
export const NOT_FOUND_HTML =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';

/** werkzeug's `NotFound.description` (werkzeug/exceptions.py), the message of `request.not_found()`. */
export const NOT_FOUND_DESCRIPTION =
  'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.';

/** The traceback Odoo puts in `debug`: it must never reach the model. */
export const DEBUG_MARKER =
  'Traceback (most recent call last):\n  File "/opt/odoo/odoo/http.py", line 2220, in _serve_db';

/** An exception as Odoo raises it: its Python class path, message, args and (werkzeug) HTTP status. */
export interface Raised {
  name: string;
  message: string;
  arguments?: unknown[];
  status?: number;
  headers?: Record<string, string>;
}

/**
 * `odoo.http.serialize_exception` (odoo/http.py): `{name: "<module>.<class>", debug: traceback, message: str(e),
 * arguments: e.args, context: getattr(e, 'context', {})}`. A werkzeug exception is serialized by json2.py with
 * `message=exc.description, arguments=(exc.description, exc.code)`.
 */
export function serializeException(e: Raised): Record<string, unknown> {
  return {
    name: e.name,
    debug: `${DEBUG_MARKER}\n${e.name}: ${e.message}`,
    message: e.message,
    arguments: e.arguments ?? [e.message],
    context: {},
  };
}

/**
 * JSON-RPC errors: `JsonRPCDispatcher.handle_error` in odoo/http.py answers HTTP 200 with
 * `{jsonrpc: "2.0", id, error: {code: 200, message: "Odoo Server Error", data: serialize_exception(exc)}}`;
 * a werkzeug NotFound gets code 404 and message "404: Not Found"; a SessionExpiredException code 100.
 */
export function jsonRpcError(id: unknown, e: Raised): Record<string, unknown> {
  const notFound = e.name === 'werkzeug.exceptions.NotFound';
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: notFound ? 404 : 200,
      message: notFound ? '404: Not Found' : 'Odoo Server Error',
      data: serializeException(e),
    },
  };
}

/**
 * `http_status` of Odoo's exceptions (odoo/exceptions.py): UserError 422 and its subclasses AccessDenied 403,
 * AccessError 403, MissingError 404, ValidationError 422. Anything else (ValueError, KeyError…) is a 500 in
 * `Json2RpcDispatcher.handle_error` (addons/rpc/controllers/json2.py).
 */
export const HTTP_STATUS: Record<string, number> = {
  'odoo.exceptions.UserError': 422,
  'odoo.exceptions.AccessDenied': 403,
  'odoo.exceptions.AccessError': 403,
  'odoo.exceptions.MissingError': 404,
  'odoo.exceptions.ValidationError': 422,
  'odoo.exceptions.RedirectWarning': 422,
};

/** A werkzeug HTTPException as json2.py serializes it: the description is the message, args (description, code). */
export function werkzeug(
  cls: 'NotFound' | 'Unauthorized' | 'UnprocessableEntity' | 'BadRequest',
  description: string,
): Raised {
  const status = { NotFound: 404, Unauthorized: 401, UnprocessableEntity: 422, BadRequest: 400 }[cls];
  return {
    name: `werkzeug.exceptions.${cls}`,
    message: description,
    arguments: [description, status],
    status,
    // `Unauthorized(..., www_authenticate=WWWAuthenticate('bearer'))` in `_auth_method_bearer`
    // (odoo/addons/base/models/ir_http.py); json2.py keeps every header but Content-Type.
    ...(cls === 'Unauthorized' ? { headers: { 'www-authenticate': 'Bearer' } } : {}),
  };
}

// ---- messages of the JSON-2 controller (addons/rpc/controllers/json2.py, `web_json_2_rpc`) ----------------

/** `NotFound(f"the model {model!r} does not exist")`. */
export const json2UnknownModel = (model: string) =>
  werkzeug('NotFound', `the model '${model}' does not exist`);
/** `UnprocessableEntity(exc.args[0])` of `inspect.signature(func).bind(records, **kwargs)`. */
export const json2BadArgument = (name: string) =>
  werkzeug('UnprocessableEntity', `got an unexpected keyword argument '${name}'`);
/** `Unauthorized("Invalid apikey")` of `_auth_method_bearer` (odoo/addons/base/models/ir_http.py). */
export const invalidApiKey = () => werkzeug('Unauthorized', 'Invalid apikey');

// ---- messages of the RPC services ----------------------------------------------------------------------

/** odoo/service/model.py `execute_cr`: `raise UserError(_("Object %s doesn't exist", obj))`. */
export const rpcUnknownModel = (model: string): Raised => ({
  name: 'odoo.exceptions.UserError',
  message: `Object ${model} doesn't exist`,
});

/** odoo/service/model.py `get_public_method` (19+) / odoo/api.py `call_kw` (≤ 18): an unknown method. */
export const unknownMethod = (p: VersionProfile, model: string, method: string): Raised => ({
  name: 'builtins.AttributeError',
  message:
    p.major >= 19
      ? `The method '${model}.${method}' does not exist`
      : `The method '${method}' does not exist on the model '${model}'`,
});

/** odoo/exceptions.py `AccessDenied.__init__(message="Access Denied")`: odoo/service/security.py `check`. */
export const accessDenied = (): Raised => ({
  name: 'odoo.exceptions.AccessDenied',
  message: 'Access Denied',
});

/** odoo/http.py `dispatch_rpc`: `rpc_dispatchers[service_name]` on a service that does not exist. */
export const unknownService = (service: string): Raised => ({
  name: 'builtins.KeyError',
  message: `'${service}'`,
});

/** odoo/service/db.py `exp_list` with `list_db = False`: `raise odoo.exceptions.AccessDenied()`. */
export const listDbDisabled = accessDenied;

/**
 * odoo/sql_db.py connecting to a database that does not exist (through `Registry(db)` in odoo/service/model.py or
 * `odoo/service/common.py`): psycopg2's own error.
 */
export const noDatabase = (db: string): Raised => ({
  name: 'psycopg2.OperationalError',
  message: `connection to server at "localhost" (127.0.0.1), port 5432 failed: FATAL:  database "${db}" does not exist\n`,
});

// ---- refusals (odoo/addons/base/models/ir_model.py, ir_rule.py, odoo/models.py) --------------------------

const OPERATION_VERB: Record<string, string> = {
  read: 'access',
  write: 'modify',
  create: 'create',
  unlink: 'delete',
};

/**
 * A model access right (ir.model.access) missing: `ACCESS_ERROR_HEADER` + `ACCESS_ERROR_GROUPS` /
 * `ACCESS_ERROR_NOGROUP` + `ACCESS_ERROR_RESOLUTION` of odoo/addons/base/models/ir_model.py
 * (`_make_access_error` of ir.model.access); groups listed "\t- <full name>".
 */
export function aclMessage(operation: string, description: string, model: string, groups: string[]): string {
  return (
    `You are not allowed to ${OPERATION_VERB[operation]} '${description}' (${model}) records.\n\n` +
    (groups.length
      ? `This operation is allowed for the following groups:\n${groups.map((g) => `\t- ${g}`).join('\n')}`
      : 'No group currently allows this operation.') +
    '\n\nContact your administrator to request access if necessary.'
  );
}

/**
 * A record rule (ir.rule) excluding records: `_make_access_error` of odoo/addons/base/models/ir_rule.py.
 * Without debug rights (group_no_one) only the header and the resolution; with them, the records, the user,
 * the failing rules, and "Note: this might be a multi-company issue." when a rule's domain names company_id.
 */
export function ruleMessage(args: {
  operation: string;
  description: string;
  model: string;
  debug?: { records: string; user: string; rules: string[]; company: boolean };
}): string {
  const head = `Due to security restrictions, you are not allowed to ${OPERATION_VERB[args.operation]} '${args.description}' (${args.model}) records.`;
  const tail = 'Contact your administrator to request access if necessary.';
  if (!args.debug) return `${head}\n\n${tail}`;
  const rules = `This restriction is due to the following rules:\n${args.debug.rules.map((r) => `- ${r}`).join('\n')}`;
  const note = args.debug.company ? '\n\nNote: this might be a multi-company issue.' : '';
  return `${head}\n\nRecords: ${args.debug.records}\nUser: ${args.debug.user}\n\n${rules}${note}\n\n${tail}`;
}

/**
 * A field restricted by `groups=` (odoo/models.py `_check_field_access` / `check_field_access_rights`), as a
 * user without debug rights sees it.
 */
export function fieldAccessMessage(
  fields: string[],
  description: string,
  model: string,
  operation: string,
): string {
  return (
    `You do not have enough rights to access the fields "${fields.join(',')}" on ${description} (${model}). ` +
    `Please contact your system administrator.\n\n(Operation: ${operation})`
  );
}

/** odoo/api.py `Environment.companies`: `allowed_company_ids` naming a company the user may not use. */
export const UNAUTHORIZED_COMPANIES = 'Access to unauthorized or invalid companies.';

/** odoo/service/model.py `get_public_method` (19+): a private method called remotely. */
export const privateMethod = (model: string, method: string) =>
  `Private methods (such as '${model}.${method}') cannot be called remotely.`;

// ---- binary fields and attachments ----------------------------------------------------------------------

/**
 * `odoo.tools.misc.human_size` (odoo/tools/misc.py, identical in 17.0, 18.0 and the newest stored master):
 * `False` for 0, else "%0.2f %s" over bytes/Kb/Mb/Gb/Tb in steps of 1024.
 */
export function humanSize(bytes: number): string | false {
  if (!bytes) return false;
  const units = ['bytes', 'Kb', 'Mb', 'Gb', 'Tb'];
  let s = bytes;
  let i = 0;
  while (s >= 1024 && i < units.length - 1) {
    s /= 1024;
    i++;
  }
  return `${s.toFixed(2)} ${units[i]}`;
}

/**
 * With `bin_size` (or `bin_size_<field>`) in the context, a Binary field reads as its size, not its content:
 * - `ir.attachment.datas` is computed by `_compute_datas` (odoo/addons/base/models/ir_attachment.py, 17.0 →
 *   newest stored master, `@api.depends_context('bin_size')`): `human_size(attach.file_size)`;
 * - a Binary field stored in an attachment (the default, `attachment = True`) is read by `Binary.read` through
 *   `ir.attachment.datas` under the same context, so it is `human_size(file_size)` too (odoo/fields.py up to
 *   18.0, odoo/orm/fields_binary.py from 19.0; `_depends_context = ('bin_size',)` in both);
 * - a computed Binary is computed without bin_size and then cached as `human_size(len(decoded))`
 *   (`Binary.compute_value`).
 * No version among 17.0, 18.0, 19.0 and the newest master stored (the 19.1/20 line) changes this; the
 * BinaryValue rework (odoo/odoo#244421) was an open, unmerged pull request when this was written.
 */
export function binSizeRequested(context: Record<string, unknown>, field: string): boolean {
  return Boolean(context.bin_size || context[`bin_size_${field}`]);
}
