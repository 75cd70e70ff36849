/**
 * Odoo's failures, whichever protocol carried them, turned into one-sentence answers. JSON-2 sends
 * `{name, message, arguments, context, debug}` with an HTTP 4xx/5xx; JSON-RPC sends HTTP 200 with
 * `{error: {code, message, data: {name, message, debug}}}`. `debug` (a server traceback) is never used.
 */
import {
  AuthError,
  NotFoundError,
  PermissionError,
  UpstreamError,
  UserInputError,
  oneLine,
  stripInvisible,
  throttledError,
  untrusted,
  type RateLimitedError,
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
  /**
   * The JSON-RPC `error.code` (odoo/http.py `JsonRPCDispatcher.handle_error`): 200 (≤ 18.0) or 0 (19.0 onwards)
   * for any exception, 404 for a
   * werkzeug NotFound (Odoo 20 answers so when JSON-RPC's object service is off), 100 for an expired session.
   */
  rpcCode?: number | undefined;
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
  /**
   * The server is Odoo 19.1 or newer, where the New API Key wizard can bind a key to one use (scope); a key bound
   * to anything but RPC is refused over the API exactly like a wrong key.
   */
  keyScopes?: boolean | undefined;
  now?: Date;
}

/**
 * The first line of Odoo's message, quoted as outside text (core's `untrusted`: one bounded line, no
 * invisible characters or fence-marker look-alikes, in «»); '' when Odoo said nothing.
 */
export function quotedFirstLine(text: string, max = 300): string {
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
  const hint = ctx.keyScopes
    ? `Create a new key for RPC use in Odoo (Preferences → Account Security → New API Key, with no scope or the RPC scope), then run \`${ctx.loginCommand}\` or set ODOO_API_KEY`
    : `Create a new key in Odoo (Preferences → Account Security → New API Key), then run \`${ctx.loginCommand}\` or set ODOO_API_KEY`;
  const today = (ctx.now ?? new Date()).toISOString().slice(0, 10);
  if (ctx.keyExpires && ctx.keyExpires < today) {
    return new AuthError(`The Odoo API key expired on ${ctx.keyExpires}, so Odoo refuses it (${said})`, {
      hint,
    });
  }
  // `res.users.apikeys._check_credentials(scope='rpc', key)` refuses a key bound to another scope exactly as a
  // wrong key: Odoo's answer cannot tell them apart, so the sentence names both.
  const scope = ctx.keyScopes ? ', or was made for another use than RPC (a key bound to another scope)' : '';
  if (ctx.protocol === 'jsonrpc' && ctx.username) {
    return new AuthError(
      `Odoo refused the sign-in of '${ctx.username}' on database '${ctx.db ?? '?'}' (${said}): the login or API key is wrong, revoked or expired${scope}`,
      { hint },
    );
  }
  return new AuthError(`Odoo refused the API key (${said}): the key is wrong, revoked or expired${scope}`, {
    hint,
  });
}

/** Turn what Odoo said about one call into the error a tool answers with. */
export function faultToError(fault: OdooFault, call: CallInfo, auth: AuthContext): Error {
  const message = quotedFirstLine(fault.message);
  const name = fault.name;
  const where = `${call.model}.${call.method}`;

  if (fault.rpcCode === 404) {
    // addons/rpc/controllers/jsonrpc.py (Odoo 20): `request.not_found()` unless rpc.use_deprecated_services is set.
    return new UpstreamError(
      "Odoo answered JSON-RPC with 404: this Odoo does not serve JSON-RPC's sign-in and object services (Odoo 20 turns them off unless an administrator sets the system parameter rpc.use_deprecated_services)",
      {
        hint: 'Use JSON-2 instead: remove --protocol jsonrpc (or ODOO_PROTOCOL); or ask an Odoo administrator to set rpc.use_deprecated_services',
      },
    );
  }

  if (name === 'werkzeug.exceptions.Unauthorized' || fault.status === 401) {
    return authFailure(auth, `${fault.status ?? 401} ${message || 'Unauthorized'}`);
  }
  if (name === 'odoo.exceptions.AccessDenied') {
    return authFailure(auth, message || 'Access Denied');
  }
  // Exception classes of odoo/exceptions.py, named `<module>.<class>` by odoo/http.py `serialize_exception`.
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
  // JSON-RPC: odoo/service/model.py `execute_cr` raises UserError("Object %s doesn't exist").
  // JSON-2: addons/rpc/controllers/json2.py raises NotFound("the model 'x' does not exist").
  if (
    (name === 'odoo.exceptions.UserError' && /^Object \S+ doesn't exist/.test(fault.message)) ||
    (name === 'werkzeug.exceptions.NotFound' && /^the model '[^']*' does not exist/.test(fault.message))
  ) {
    return new NotFoundError(`Odoo has no model '${call.model}'`, {
      hint: 'Call odoo_list_models to find the technical model name',
    });
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
  // psycopg2's OperationalError when odoo/sql_db.py connects to a database that does not exist.
  if (/database "[^"]+" does not exist/.test(fault.message)) {
    const db = /database "([^"]+)"/.exec(fault.message)?.[1];
    return new NotFoundError(`Odoo has no database ${untrusted(db ?? auth.db ?? '?', 100)}`, {
      hint: 'Set ODOO_DB to the database name shown in Odoo’s database selector',
    });
  }
  if (fault.status === 422 || name === 'builtins.ValueError' || name === 'builtins.TypeError') {
    return new UserInputError(`Odoo rejected ${where} as invalid: ${message}`);
  }
  if (fault.status === 404 || name === 'werkzeug.exceptions.NotFound') {
    return new NotFoundError(`Odoo's ${call.model} offers no method '${call.method}': ${message}`, {
      hint: 'Call odoo_list_models to check the model; the method may need an app that is not installed',
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
  return throttledError('Odoo', {
    during,
    retryAfterSeconds,
    hint: (seconds) =>
      seconds === undefined
        ? 'Wait a minute and try again, with fewer calls at once'
        : `Try again in ${seconds} s or later, with fewer calls at once`,
  });
}

function shortName(name: string): string {
  return oneLine(name.replace(/^builtins\./, ''), 100);
}

/** Odoo's first sentence, quoted as outside text; the whole first line when it has no full stop. */
function firstSentence(text: string, max = 200): string {
  const line =
    stripInvisible(text)
      .split(/\r?\n/)
      .find((l) => l.trim()) ?? '';
  // The closing full stop stays outside the quote, where the sentence around it puts its own.
  const sentence = (/^.*?[.!?](?=\s|$)/.exec(line.trim())?.[0] ?? line).replace(/[.]$/, '');
  return sentence.trim() ? untrusted(sentence, max) : '';
}

/** The lines of one block of an Odoo message that start with "- " (rules, groups), quoted. */
function listed(text: string, after: RegExp): string[] {
  const at = text.search(after);
  if (at < 0) return [];
  const block = text.slice(at).split(/\n\s*\n/)[0]!;
  return [...block.matchAll(/^\s*-\s+(.+?)\s*$/gm)].map((m) => untrusted(m[1]!, 100)).slice(0, 6);
}

/**
 * An AccessError told apart by what an administrator must change, each with Odoo's own sentence quoted:
 * - a model access right (ir.model.access, odoo/addons/base/models/ir_model.py): "You are not allowed to access
 *   'Employee' (hr.employee) records." plus the groups that have it;
 * - a record rule (ir.rule, odoo/addons/base/models/ir_rule.py): "Uh-oh! Looks like you have stumbled upon some
 *   top-secret records. Sorry, <user> doesn't have '<op>' access to: …" on 17.0, 18.0, 19.0 and master (Odoo 16 and
 *   older said "Due to security restrictions, you are not allowed to access …"), with the rules in debug mode and
 *   a multi-company note (18.0 onwards in both modes);
 * - field access (`groups=` on a field, odoo/models.py): "You do not have enough rights to access the fields …";
 * - companies (odoo/api.py): "Access to unauthorized or invalid companies.";
 * - the API key's own scope: "The API key's scope '…' does not …".
 */
function accessError(raw: string, call: CallInfo): PermissionError {
  const text = stripInvisible(raw);
  const said = firstSentence(text);
  const saidPart = said ? `; Odoo said ${said}` : '';
  const modelIn = (m: RegExpExecArray | null) => (m?.[1] && /^[\w.]+$/.test(m[1]) ? m[1] : call.model);

  const isRule =
    /^\s*Due to security restrictions, you are not allowed to/.test(text) || /top-secret records/.test(text);
  if (isRule) {
    // 17.0 onwards (ir_rule.py): "Uh-oh! …top-secret records.\n\nSorry, <user> doesn't have '<op>' access to:\n
    // - <description> (<model>)": quote the sentence that says what was refused, not the joke before it.
    const sorry = /Sorry, [^\n]*? access to:\s*\n\s*-\s*[^\n]+/.exec(text)?.[0];
    const ruleSaid = sorry ? `; Odoo said ${untrusted(sorry.replace(/:\s*\n\s*-\s*/, ': '), 200)}` : saidPart;
    const verb = /not allowed to (\w+) '/.exec(text)?.[1] ?? /doesn't have '(\w+)' access/.exec(text)?.[1];
    const right = (verb && VERB_RIGHT[verb.toLowerCase()]) ?? rightOf(call.method);
    const model = modelIn(/\(([\w.]+)\)(?: records)?/.exec(text));
    const rules = listed(text, /following rules|Blame the following rules/);
    const ruleText = rules.length ? ` The rules: ${rules.join('; ')}.` : '';
    const company = /multi-company/.test(text);
    if (company) {
      return new PermissionError(
        `Odoo refused ${right} access to some ${model} records: a multi-company record rule excludes them, so they probably belong to a company this user is not allowed in or has not selected${ruleSaid}.${ruleText}`,
        {
          hint: "An Odoo administrator can add that company to the user's Allowed Companies (Settings → Users → the user); model access rights do not help here",
        },
      );
    }
    return new PermissionError(
      `Odoo refused ${right} access to some ${model} records: a record rule excludes them for this user, who may still ${right} other ${model} records${ruleSaid}.${ruleText}`,
      {
        hint: `An Odoo administrator can review the record rules of ${model} (Settings → Technical → Security → Record Rules) for this user's groups; adding model access rights does not help`,
      },
    );
  }

  const acl = /You are not allowed to (\w+) '[^']*' \(([\w.]+)\)/.exec(text);
  if (acl) {
    const right = VERB_RIGHT[acl[1]!.toLowerCase()] ?? rightOf(call.method);
    const groups = listed(text, /allowed for the following groups/);
    const granted = groups.length > 0 ? ` It is granted to: ${groups.join('; ')}.` : ' No group grants it.';
    return new PermissionError(
      `Odoo denied ${right} access to ${acl[2]}: this user lacks the model access right (ir.model.access) to ${right} that model${saidPart}.${granted}`,
      {
        hint:
          groups.length > 0
            ? 'An Odoo administrator can add this user to one of those groups (Settings → Users → the user → Access Rights), or use the API key of a user who has the right'
            : 'An Odoo administrator can grant the right with an access rule (Settings → Technical → Security → Access Rights), or use the API key of a user who has it',
      },
    );
  }

  // 17.0/18.0 (odoo/models.py): 'the fields "a,b"'; 19.0 (odoo/orm/models.py `_check_field_access`): 'the field "a"'.
  if (/You do not have enough rights to access the fields?\b|Fields:\s*\n/.test(text)) {
    const fields = /the fields? "([^"]+)"/.exec(text)?.[1];
    const names = fields ? ` ${untrusted(fields, 200)}` : '';
    return new PermissionError(
      `Odoo denied access to the field${fields?.includes(',') ? 's' : ''}${names} of ${call.model}: they are restricted to some groups, though the model itself is readable${saidPart}`,
      {
        hint: 'Leave those fields out (odoo_describe_model lists the others); or an Odoo administrator can add this user to a group that may read them',
      },
    );
  }

  if (/unauthorized or invalid companies/.test(text)) {
    return new PermissionError(`Odoo refused a company this user is not allowed in${saidPart}`, {
      hint: "An Odoo administrator can add the company to the user's Allowed Companies (Settings → Users → the user)",
    });
  }

  if (/The API key's scope/.test(text)) {
    return new PermissionError(
      `Odoo refused ${call.model}.${call.method} because of the API key's own scope, not the user's rights${saidPart}`,
      {
        hint: 'Create an API key whose scope includes this model and operation, or use a key without a narrower scope',
      },
    );
  }

  const right = rightOf(call.method);
  return new PermissionError(`Odoo denied ${right} access to ${call.model} for this user${saidPart}`, {
    hint: 'Ask an Odoo administrator to give this user the right (or use the API key of a user who has it)',
  });
}

/** Map an unknown-model failure of fields_get, naming close models when Odoo can list them. */
export function unknownModel(model: string, candidates: string[]): NotFoundError {
  return new NotFoundError(`Odoo has no model '${model}'`, {
    candidates,
    hint: 'Call odoo_list_models to find the technical model name',
  });
}
