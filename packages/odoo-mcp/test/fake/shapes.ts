/**
 * What a real Odoo answers, per version, taken from Odoo's own source (odoo/odoo), never from our client.
 * Each shape names the file it comes from; the fake server (odoo.ts) and the fake ORM (orm.ts) only use these.
 *
 * Re-checked file by file against these trees (each one's odoo/release.py read at the same commit):
 * - 17.0: Clyde1030/odoo17 @5a953f3 (`version_info = (17, 0, 0, FINAL, 0, '')`, packaged 2024-07-09);
 * - 18.0: ManuelGil/dockerized-odoo-18 @350b3b2 (`(18, 0, 0, FINAL, 0, '')`, odoo 384f5bf, 2025-05-06);
 * - 19.0: jnvdx6/skymedic-odoo @85dffc0 (`(19, 0, 0, FINAL, 0, '')`; later commits touch only its own addons);
 * - saas~19.1 and 20.0: not reachable. No stored tree has such a release.py; odoo/odoo as stored holds each
 *   file at a different master commit of unknown series (its release.py is not stored at those commits, and
 *   some of them are older than 19.0: its stored common.py predates 13.0). A master file is cited below only
 *   where its content places it after 19.0 (addons/rpc/controllers/jsonrpc.py @59e846b, which gates JSON-RPC
 *   behind `rpc.use_deprecated_services`) or where it agrees with 19.0 anyway. Everything else the fake answers
 *   for 19.1 and 20 is the 19.0 file's shape.
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
   * system parameter `rpc.use_deprecated_services` is set; otherwise `request.not_found()` (read in master
   * odoo/odoo@59e846b; 19.0 @85dffc0's jsonrpc.py has no such gate, only a deprecation warning).
   */
  rpcNeedsParameter: boolean;
  /**
   * Odoo 19.1 onwards lets a user bind a new key to one scope ("door") in the New API Key wizard
   * (`res.users.apikeys.description.scope_id`, odoo/addons/base/models/res_users_apikeys.py of the newest stored
   * master); up to 19.0 the wizard makes keys without a scope. On every version the check is the same
   * (`_check_credentials(scope='rpc', key)`): a key without a scope, or bound to 'rpc', passes; a key bound to
   * another scope is refused like a wrong one — 17.0 @5a953f3, 18.0 @350b3b2, 19.0 @85dffc0 res_users.py
   * `WHERE ... (scope IS NULL OR scope = %s)`,
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

/**
 * `GET /web/version` from 19.0: exactly these two keys (addons/rpc/controllers/__init__.py, `RPC.version`;
 * read in 19.0 @85dffc0 — `make_json_response` — and master odoo/odoo@079c375 — `prepare_json_response`, same
 * body; the series of that master commit is unknown). 17.0 @5a953f3 and 18.0 @350b3b2 have no `/web/version` nor `/json/version` route anywhere in the tree
 * (only `/web/webclient/version_info`, type='json', addons/web/controllers/webclient.py).
 */
export function webVersionBody(p: VersionProfile): Record<string, unknown> {
  return { version_info: p.versionInfo, version: p.version };
}

/**
 * JSON-RPC `common.version`: `RPC_VERSION_1` of odoo/service/common.py, identical in 17.0 @5a953f3, 18.0 @350b3b2
 * and 19.0 @85dffc0. `server_serie` is `release.serie` ('.'.join(version_info[:2])), equal to `version` for a
 * FINAL release.
 */
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
 * arguments: e.args, context: getattr(e, 'context', {})}` — same keys in 17.0 @5a953f3, 18.0 @350b3b2 and 19.0
 * @85dffc0. From 19.0 it takes `message=`/`arguments=` overrides, with which
 * `Json2Dispatcher.handle_error` (odoo/http.py, 19.0) serializes a werkzeug exception:
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
 * `{jsonrpc: "2.0", id, error: {code, message: "Odoo Server Error", data: serialize_exception(exc)}}`;
 * a werkzeug NotFound gets code 404 and message "404: Not Found"; a SessionExpiredException code 100 and
 * "Odoo Session Expired". `code` is 200 in 17.0 @5a953f3 and 18.0 @350b3b2, but 0 ("we don't care of this
 * code") in 19.0 @85dffc0 (already so in a pre-19.0 master, odoo/odoo@012d2d7) — fixed here: the fake said 200
 * on every version.
 */
export function jsonRpcError(p: VersionProfile, id: unknown, e: Raised): Record<string, unknown> {
  const notFound = e.name === 'werkzeug.exceptions.NotFound';
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: notFound ? 404 : p.major >= 19 ? 0 : 200,
      message: notFound ? '404: Not Found' : 'Odoo Server Error',
      data: serializeException(e),
    },
  };
}

/**
 * `http_status` of Odoo's exceptions (odoo/exceptions.py, 19.0 @85dffc0; 17.0/18.0 have no `http_status` and no
 * JSON-2): UserError 422 and its subclasses AccessDenied 403, AccessError 403, MissingError 404, LockError 409,
 * ValidationError 422. `Json2Dispatcher.handle_error` (odoo/http.py 19.0) uses it for UserError subclasses only;
 * anything else (ValueError, KeyError, and RedirectWarning, which derives from Exception, not UserError) is a 500.
 * Fixed here: the fake answered RedirectWarning with 422.
 */
export const HTTP_STATUS: Record<string, number> = {
  'odoo.exceptions.UserError': 422,
  'odoo.exceptions.AccessDenied': 403,
  'odoo.exceptions.AccessError': 403,
  'odoo.exceptions.MissingError': 404,
  'odoo.exceptions.LockError': 409,
  'odoo.exceptions.ValidationError': 422,
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

/**
 * The 404 page of odoo/http.py `_serve_nodb` (`NOT_FOUND_NODB`, 19.0 @85dffc0): what JSON-2 answers when no
 * database is selected — an unknown `X-Odoo-Database` passes `db_filter` but `Registry(db)` fails, so
 * `Application.__call__` retries without a database, where no JSON-2 route exists. Fixed here: the fake served
 * werkzeug's generic 404 page.
 */
export const NOT_FOUND_NODB_HTML =
  '<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n';

// ---- messages of the JSON-2 controller (addons/rpc/controllers/json2.py, `web_json_2_rpc`; read in 19.0
// @85dffc0: these three messages are its `NotFound`/`UnprocessableEntity` texts) ----------------------------

/** `NotFound(f"the model {model!r} does not exist")`. */
export const json2UnknownModel = (model: string) =>
  werkzeug('NotFound', `the model '${model}' does not exist`);
/** `UnprocessableEntity(exc.args[0])` of `inspect.signature(func).bind(records, **kwargs)`. */
export const json2BadArgument = (name: string) =>
  werkzeug('UnprocessableEntity', `got an unexpected keyword argument '${name}'`);
/** `Unauthorized("Invalid apikey")` of `_auth_method_bearer` (odoo/addons/base/models/ir_http.py). */
export const invalidApiKey = () => werkzeug('Unauthorized', 'Invalid apikey');

// ---- messages of the RPC services ----------------------------------------------------------------------

/**
 * odoo/service/model.py `execute_cr`: `raise UserError(_("Object %s doesn't exist", obj))` — same text in 17.0
 * @5a953f3, 18.0 @350b3b2 (`env._`) and 19.0 @85dffc0 (an f-string).
 */
export const rpcUnknownModel = (model: string): Raised => ({
  name: 'odoo.exceptions.UserError',
  message: `Object ${model} doesn't exist`,
});

/**
 * An unknown method: odoo/service/model.py `get_public_method`, called by `execute_cr` from 18.0 (@350b3b2) and
 * by json2.py in 19.0 (@85dffc0): "The method 'model.method' does not exist". 17.0 (@5a953f3) has no
 * `get_public_method`; odoo/api.py `call_kw` says "The method 'method' does not exist on the model 'model'".
 * Fixed here: the fake gave 18.0 the 17.0 text.
 */
export const unknownMethod = (p: VersionProfile, model: string, method: string): Raised => ({
  name: 'builtins.AttributeError',
  message:
    p.major >= 18
      ? `The method '${model}.${method}' does not exist`
      : `The method '${method}' does not exist on the model '${model}'`,
});

/**
 * odoo/exceptions.py `AccessDenied.__init__(message="Access Denied")` (17.0, 18.0, 19.0): a wrong key over
 * JSON-RPC — odoo/service/security.py `check` in 17.0/18.0, `res.users._check_uid_passwd` inside
 * odoo/service/model.py `dispatch` from 19.0 (which also raises a bare `AccessDenied` for an empty password).
 */
export const accessDenied = (): Raised => ({
  name: 'odoo.exceptions.AccessDenied',
  message: 'Access Denied',
});

/**
 * odoo/http.py `dispatch_rpc`: `rpc_dispatchers[service_name]` on a service that does not exist (the dict is
 * common/db/object in 17.0, 18.0 and 19.0).
 */
export const unknownService = (service: string): Raised => ({
  name: 'builtins.KeyError',
  message: `'${service}'`,
});

/**
 * odoo/service/db.py `exp_list` with `list_db = False`: `raise odoo.exceptions.AccessDenied()` (identical in 17.0
 * @5a953f3, 18.0 @350b3b2, 19.0 @85dffc0).
 */
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
 * (`_make_access_error` of ir.model.access); groups listed "\t- <full name>". Same text and layout in 18.0
 * @350b3b2 and 19.0 @85dffc0; 17.0 @5a953f3 builds the same sentences inline in `check`.
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
 * A record rule (ir.rule) excluding records: `_make_access_error` of odoo/addons/base/models/ir_rule.py, the
 * same "Uh-oh! … top-secret records" text in 17.0 @5a953f3, 18.0 @350b3b2, 19.0 @85dffc0 and a master
 * commit of unknown series, odoo/odoo@006bc8f. Fixed here: the fake said "Due to security restrictions, you are not allowed to …", the
 * wording of Odoo 16 and older, which no supported version sends.
 * - Without debug rights (group_no_one): the header, "- <description> (<model>)", the resolution.
 * - With them: one "- <description>, <display name> (<model>: <id>)" line per record (at most 6; 17.0 joins
 *   them with "\n " instead of "\n"), "Blame the following rules:\n- <rule>", the resolution.
 * - A rule whose domain names company_id adds a multi-company note: 17.0 only in debug, after the rules;
 *   18.0 onwards in both modes, after the resolution (the "several suggested companies" variant here).
 */
export function ruleMessage(args: {
  major: number;
  operation: string;
  description: string;
  model: string;
  /** "<user name> (id=<uid>)". */
  user: string;
  company?: boolean;
  debug?: { records: Array<{ id: number; name: string }>; rules: string[] };
}): string {
  const head =
    'Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n' +
    `Sorry, ${args.user} doesn't have '${args.operation}' access to:`;
  let resolution =
    'If you really, really need access, perhaps you can win over your friendly administrator with a batch of freshly baked cookies.';
  const note =
    'Note: this might be a multi-company issue. Switching company may help - in Odoo, not in real life!';
  if (args.company && args.major >= 18) resolution += `\n\n${note}`;
  if (!args.debug) return `${head}\n- ${args.description} (${args.model})\n\n${resolution}`;
  const records = args.debug.records
    .slice(0, 6)
    .map((r) => `- ${args.description}, ${r.name} (${args.model}: ${r.id})`)
    .join(args.major >= 18 ? '\n' : '\n ');
  let rules = `Blame the following rules:\n${args.debug.rules.map((r) => `- ${r}`).join('\n')}`;
  if (args.company && args.major < 18) rules += `\n\n${note}`;
  return `${head}\n${records}\n\n${rules}\n\n${resolution}`;
}

/**
 * A field restricted by `groups=`, as a user without debug rights sees it: odoo/models.py
 * `check_field_access_rights` in 17.0 @5a953f3 ('the fields "a,b"', then "(Operation: read)") and 18.0 @350b3b2
 * ('the fields "a,b"', then "Operation: read"); odoo/orm/models.py `_check_field_access` in 19.0 @85dffc0, one
 * field at a time ('the field "a"', "Operation: read"). Fixed here: the fake sent the 17.0 text on every version.
 */
export function fieldAccessMessage(
  major: number,
  fields: string[],
  description: string,
  model: string,
  operation: string,
): string {
  const which = major >= 19 ? `field "${fields[0]}"` : `fields "${fields.join(',')}"`;
  const op = major >= 18 ? `Operation: ${operation}` : `(Operation: ${operation})`;
  return (
    `You do not have enough rights to access the ${which} on ${description} (${model}). ` +
    `Please contact your system administrator.\n\n${op}`
  );
}

/** Python's `repr` of a JSON value, as Odoo's f-strings print a domain leaf (a tuple) or its value. */
export function pyRepr(v: unknown, tuple = false): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) {
    const items = v.map((x) => pyRepr(x)).join(', ');
    return tuple ? `(${items}${v.length === 1 ? ',' : ''})` : `[${items}]`;
  }
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
    .join(', ')}}`;
}

/**
 * A domain naming a field the model lacks, a ValueError: odoo/osv/expression.py `expression.parse` in 17.0
 * @5a953f3 and 18.0 @350b3b2 ("Invalid field <model>.<field> in leaf <tuple>"); odoo/orm/domains.py
 * `DomainCondition._raise` in 19.0 @85dffc0 ("Invalid field <model>.<field> in condition <tuple>"). Fixed here:
 * the fake printed the leaf as JSON and used the 17.0 wording on every version.
 */
export const invalidDomainField = (major: number, model: string, field: string, leaf: unknown[]) =>
  `Invalid field ${model}.${field} in ${major >= 19 ? 'condition' : 'leaf'} ${pyRepr(leaf, true)}`;

/**
 * `Environment.companies`: `allowed_company_ids` naming a company the user may not use — odoo/api.py in 17.0
 * @5a953f3 and 18.0 @350b3b2, odoo/orm/environments.py in 19.0 @85dffc0; same sentence.
 */
export const UNAUTHORIZED_COMPANIES = 'Access to unauthorized or invalid companies.';

/**
 * A private method called remotely, an AccessError: odoo/service/model.py `get_public_method` in 18.0 @350b3b2
 * and 19.0 @85dffc0 ("such as 'model.method'"); odoo/models.py `check_method_name` in 17.0 @5a953f3, which
 * names the method alone ("such as _method"). Fixed here: the fake gave 17.0 the newer text.
 */
export const privateMethod = (major: number, model: string, method: string) =>
  major >= 18
    ? `Private methods (such as '${model}.${method}') cannot be called remotely.`
    : `Private methods (such as ${method}) cannot be called remotely.`;

// ---- binary fields and attachments ----------------------------------------------------------------------

/**
 * `odoo.tools.misc.human_size` (odoo/tools/misc.py, identical in 17.0 @5a953f3, 18.0 @350b3b2, 19.0 @85dffc0):
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
 * - `ir.attachment.datas` is computed by `_compute_datas` (odoo/addons/base/models/ir_attachment.py, same body in
 *   17.0 @5a953f3, 18.0 @350b3b2 and 19.0 @85dffc0, `@api.depends_context('bin_size')`):
 *   `human_size(attach.file_size)`;
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
