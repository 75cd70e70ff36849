/**
 * Odoo's failures, whichever protocol carried them, turned into one-sentence answers. JSON-2 sends
 * `{name, message, arguments, context, debug}` with an HTTP 4xx/5xx; JSON-RPC sends HTTP 200 with
 * `{error: {code, message, data: {name, message, debug}}}`. `debug` (a server traceback) is never used.
 */
import {
  AuthError,
  NotFoundError,
  PermissionError,
  RateLimitedError,
  UpstreamError,
  UserInputError,
  cleanInline,
  stripInvisible,
  untrusted,
} from '@switchyard/core';

/** An error as Odoo reported it. */
export interface OdooFault {
  /** The Python exception, e.g. `odoo.exceptions.AccessError`. */
  name: string;
  message: string;
  /** The HTTP status (JSON-2 only; JSON-RPC always answers 200). */
  status?: number;
  /** The wait a 429 asked for (`Retry-After`), in whole seconds. */
  retryAfterSeconds?: number | undefined;
}

/** Thrown by the transports; the client turns it into a typed error once it knows the call. */
export class OdooFaultError extends Error {
  constructor(readonly fault: OdooFault) {
    super(`${fault.name}: ${fault.message}`);
    this.name = 'OdooFaultError';
  }
}

export interface CallInfo {
  model: string;
  method: string;
  ids?: number[] | undefined;
}

export interface AuthContext {
  protocol: 'json2' | 'jsonrpc';
  username?: string | undefined;
  db?: string | undefined;
  keyExpires?: string | undefined;
  /** The login command to suggest, with `--profile` when not the default one. */
  loginCommand: string;
  now?: Date;
}

/**
 * The first line of Odoo's message, quoted as outside text (core's `untrusted`: one bounded line, no
 * invisible characters or fence-marker look-alikes, in «»); '' when Odoo said nothing.
 */
export function oneLine(text: string, max = 300): string {
  const line =
    stripInvisible(text)
      .split(/\r?\n/)
      .find((l) => l.trim()) ?? '';
  return line.trim() ? untrusted(line, max) : '';
}

const READ_METHODS = new Set([
  'search_read',
  'search_count',
  'search',
  'read',
  'read_group',
  'formatted_read_group',
  'fields_get',
  'name_search',
]);

function rightOf(method: string): string {
  if (READ_METHODS.has(method)) return 'read';
  if (method === 'unlink') return 'delete';
  if (method === 'create') return 'create';
  return 'write';
}

const VERB_RIGHT: Record<string, string> = {
  access: 'read',
  read: 'read',
  modify: 'write',
  write: 'write',
  create: 'create',
  delete: 'delete',
  unlink: 'delete',
};

/** The sentence for a refused API key or sign-in, knowing when the key was due to expire. */
export function authFailure(ctx: AuthContext, said: string): AuthError {
  const hint = `Create a new key in Odoo (Preferences → Account Security → New API Key), then run \`${ctx.loginCommand}\` or set ODOO_API_KEY`;
  const today = (ctx.now ?? new Date()).toISOString().slice(0, 10);
  if (ctx.keyExpires && ctx.keyExpires < today) {
    return new AuthError(`The Odoo API key expired on ${ctx.keyExpires}, so Odoo refuses it (${said})`, {
      hint,
    });
  }
  if (ctx.protocol === 'jsonrpc' && ctx.username) {
    return new AuthError(
      `Odoo refused the sign-in of '${ctx.username}' on database '${ctx.db ?? '?'}' (${said}): the login or API key is wrong, revoked or expired`,
      { hint },
    );
  }
  return new AuthError(`Odoo refused the API key (${said}): the key is wrong, revoked or expired`, { hint });
}

/** Turn what Odoo said about one call into the error a tool answers with. */
export function faultToError(fault: OdooFault, call: CallInfo, auth: AuthContext): Error {
  const message = oneLine(fault.message);
  const name = fault.name;
  const where = `${call.model}.${call.method}`;

  if (name === 'werkzeug.exceptions.Unauthorized' || fault.status === 401) {
    return authFailure(auth, `${fault.status ?? 401} ${message || 'Unauthorized'}`);
  }
  if (name === 'odoo.exceptions.AccessDenied') {
    return authFailure(auth, message || 'Access Denied');
  }
  if (name === 'odoo.exceptions.AccessError') return accessError(fault.message, call);
  if (name === 'odoo.exceptions.MissingError') {
    const ids = call.ids && call.ids.length > 0 ? call.ids : undefined;
    const what = ids
      ? `no record with id ${ids.length === 1 ? ids[0] : `among ${ids.join(', ')}`}`
      : 'no such record';
    return new NotFoundError(
      `${call.model} has ${what} (it does not exist, was deleted, or is archived out of reach)`,
      { hint: 'Use odoo_search_records to find the ids that exist' },
    );
  }
  if (
    name === 'odoo.exceptions.ValidationError' ||
    name === 'odoo.exceptions.UserError' ||
    name === 'odoo.exceptions.RedirectWarning'
  ) {
    return new UserInputError(
      `Odoo refused ${where}: ${message}`,
      call.method === 'create' || call.method === 'write'
        ? { hint: 'Change the values as the message says and try again' }
        : {},
    );
  }
  if (/database "[^"]+" does not exist/.test(fault.message)) {
    const db = /database "([^"]+)"/.exec(fault.message)?.[1];
    return new NotFoundError(`Odoo has no database ${untrusted(db ?? auth.db ?? '?', 100)}`, {
      hint: 'Set ODOO_DB to the database name shown in Odoo’s database selector',
    });
  }
  if (name === 'builtins.KeyError' && call.method === 'fields_get') {
    return new NotFoundError(`Odoo has no model '${call.model}'`, {
      hint: 'Call odoo_list_models to find the technical model name',
    });
  }
  if (fault.status === 422 || name === 'builtins.ValueError' || name === 'builtins.TypeError') {
    return new UserInputError(`Odoo rejected ${where} as invalid: ${message}`);
  }
  if (fault.status === 404 || name === 'werkzeug.exceptions.NotFound') {
    return new NotFoundError(`Odoo has no model '${call.model}' or it offers no method '${call.method}'`, {
      hint: 'Call odoo_list_models to find the technical model name',
    });
  }
  if (fault.status === 429 || name === 'werkzeug.exceptions.TooManyRequests') {
    return throttled(`while running ${where}`, fault.retryAfterSeconds);
  }
  const status = fault.status ? ` (HTTP ${fault.status})` : '';
  return new UpstreamError(
    `Odoo failed on its side${status} while running ${where}: ${[shortName(name), message].filter(Boolean).join(': ') || 'no details'}`,
    {
      // A write is never repeated: if the failure came after Odoo did it, a retry would do it twice.
      hint: READ_METHODS.has(call.method)
        ? 'Try again in a moment; if it keeps failing, an Odoo administrator can find the traceback in the Odoo server log'
        : 'The change may have been made all the same: check the records (odoo_search_records) before trying again; if it keeps failing, an Odoo administrator can find the traceback in the Odoo server log',
    },
  );
}

/** Odoo (or a proxy in front of it) refused a call for coming too often; says when to try again. */
export function throttled(during: string, retryAfterSeconds: number | undefined): RateLimitedError {
  if (retryAfterSeconds === undefined) {
    return new RateLimitedError(`Odoo is throttling requests ${during}`, {
      hint: 'Wait a minute and try again, with fewer calls at once',
    });
  }
  return new RateLimitedError(
    `Odoo is throttling requests ${during} and asks to wait ${retryAfterSeconds} s`,
    {
      hint: `Try again in ${retryAfterSeconds} s or later, with fewer calls at once`,
      retryAfterSeconds,
    },
  );
}

function shortName(name: string): string {
  return cleanInline(name.replace(/^builtins\./, ''), 100);
}

/** Access errors name the model and the missing right; the groups that would grant it, when Odoo lists them. */
function accessError(raw: string, call: CallInfo): PermissionError {
  const text = stripInvisible(raw);
  const acl = /not allowed to (\w+) '([^']+)' \(([\w.]+)\)/.exec(text);
  const groups = [...text.matchAll(/^\s*-\s+(.+?)\s*$/gm)]
    .map((m) => m[1]!)
    .filter((g) => !/\(\S+: [\d, ]+\)$/.test(g));
  const hint =
    'Ask an Odoo administrator to give this user the right (or use the API key of a user who has it)';
  if (acl) {
    const right = VERB_RIGHT[acl[1]!.toLowerCase()] ?? rightOf(call.method);
    // Group and model descriptions are Odoo's words, which an administrator (or an attacker) can set.
    const granted =
      groups.length > 0 ? ` It is granted to: ${groups.map((g) => untrusted(g, 100)).join('; ')}.` : '';
    return new PermissionError(
      `Odoo denied ${right} access to ${acl[3]} (${untrusted(acl[2], 100)}): this user lacks the ${right} right on that model.${granted}`,
      { hint },
    );
  }
  const rule = /have '(\w+)' access to/.exec(text);
  const record = /\(([\w.]+): ([\d, ]+)\)/.exec(text);
  if (rule) {
    const model = record?.[1] ?? call.model;
    const ids = record?.[2] ? ` (ids ${record[2].trim()})` : '';
    return new PermissionError(
      `Odoo's record rules deny ${VERB_RIGHT[rule[1]!] ?? rule[1]} access to some ${model} records${ids} for this user`,
      { hint },
    );
  }
  const right = rightOf(call.method);
  return new PermissionError(`Odoo denied ${right} access to ${call.model} for this user: ${oneLine(raw)}`, {
    hint,
  });
}

/** Map an unknown-model failure of fields_get, naming close models when Odoo can list them. */
export function unknownModel(model: string, candidates: string[]): NotFoundError {
  return new NotFoundError(`Odoo has no model '${model}'`, {
    candidates,
    hint: 'Call odoo_list_models to find the technical model name',
  });
}
