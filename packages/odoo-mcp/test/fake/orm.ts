import {
  aclMessage,
  binSizeRequested,
  fieldAccessMessage,
  humanSize,
  invalidDomainField,
  ruleMessage,
} from './shapes.js';

/**
 * A small in-memory Odoo ORM for the fake server: models with fields_get metadata, records, computed
 * fields, domain evaluation (prefix notation, dotted paths, any/not any, child_of, like/ilike, active_test),
 * search/read/grouped reads in both the ≤ 18 (`read_group`) and 19 (`formatted_read_group`) shapes,
 * writes, and a per-group access list that raises Odoo's own AccessError text.
 */

/** An exception raised inside the fake Odoo: its Python class path and message (see shapes.ts for each). */
export class OdooException extends Error {
  constructor(
    readonly odooName: string,
    message: string,
    /** werkzeug exceptions carry their own HTTP status, args and headers (shapes.ts `werkzeug`). */
    readonly extra: { status?: number; arguments?: unknown[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
  }
}

export const accessError = (m: string) => new OdooException('odoo.exceptions.AccessError', m);
export const missingError = (m: string) => new OdooException('odoo.exceptions.MissingError', m);
export const valueError = (m: string) => new OdooException('builtins.ValueError', m);
export const userError = (m: string) => new OdooException('odoo.exceptions.UserError', m);
export const validationError = (m: string) => new OdooException('odoo.exceptions.ValidationError', m);

export type FieldType =
  | 'char'
  | 'text'
  | 'html'
  | 'integer'
  | 'float'
  | 'monetary'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'selection'
  | 'many2one'
  | 'one2many'
  | 'many2many'
  | 'many2one_reference'
  | 'binary';

export type Rec = Record<string, unknown> & { id: number };

export interface Env {
  uid: number;
  context: Record<string, unknown>;
}

export interface FieldDef {
  type: FieldType;
  string: string;
  relation?: string;
  /** one2many: the many2one on the relation that points back. */
  inverse?: string;
  required?: boolean;
  readonly?: boolean;
  store?: boolean;
  selection?: Array<[string, string]>;
  help?: string;
  compute?: (rec: Rec, env: Env, orm: Orm) => unknown;
}

export interface ModelDef {
  name: string;
  description: string;
  order: string;
  fields: Record<string, FieldDef>;
  /** The field holding the parent, for child_of / parent_of. */
  parentField?: string;
  displayName?: (rec: Rec, orm: Orm) => string;
  transient?: boolean;
}

export interface Group {
  id: number;
  xmlid: string;
  fullName: string;
  /** model → rights among "rwcu" (read, write, create, unlink); '*' for every model. */
  rights: Record<string, string>;
}

/**
 * A record rule (ir.rule, odoo/addons/base/models/ir_rule.py): records of `model` the rule's groups (or everyone,
 * when global) may reach for the operations it applies to.
 */
export interface RecordRule {
  name: string;
  model: string;
  /** Groups it applies to; none = a global rule. */
  groups?: number[];
  operations: Array<'read' | 'write' | 'create' | 'unlink'>;
  allows: (rec: Rec, user: User) => boolean;
  /** The rule's domain names company_id (the multi-company note of `_make_access_error`). */
  company?: boolean;
}

export interface User {
  id: number;
  login: string;
  name: string;
  groups: number[];
  tz: string | false;
  lang: string;
  companyId: number;
  /** In group_no_one (debug mode rights): record-rule errors then list records, user and rules. */
  debug?: boolean;
}

const STANDARD: Record<string, FieldDef> = {
  id: { type: 'integer', string: 'ID', readonly: true },
  display_name: { type: 'char', string: 'Display Name', readonly: true, store: false },
  create_date: { type: 'datetime', string: 'Created on', readonly: true },
  create_uid: { type: 'many2one', string: 'Created by', relation: 'res.users', readonly: true },
  write_date: { type: 'datetime', string: 'Last Updated on', readonly: true },
  write_uid: { type: 'many2one', string: 'Last Updated by', relation: 'res.users', readonly: true },
};

const RIGHT_OF: Record<string, string> = { read: 'r', write: 'w', create: 'c', unlink: 'u' };

export const METHOD_PARAMS: Record<string, string[]> = {
  search_read: ['domain', 'fields', 'offset', 'limit', 'order'],
  search_count: ['domain', 'limit'],
  search: ['domain', 'offset', 'limit', 'order'],
  read: ['fields', 'load'],
  fields_get: ['allfields', 'attributes'],
  read_group: ['domain', 'fields', 'groupby', 'offset', 'limit', 'orderby', 'lazy'],
  formatted_read_group: ['domain', 'groupby', 'aggregates', 'having', 'offset', 'limit', 'order'],
  create: ['vals_list'],
  write: ['vals'],
  unlink: [],
  context_get: [],
};
/** Methods that run on records: their ids come first (JSON-RPC) or as `ids` (JSON-2). */
export const RECORD_METHODS = new Set(['read', 'write', 'unlink']);

/** Local wall-clock ↔ UTC, separate from the code under test. */
function zoneOffsetMs(utcMs: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(utcMs));
  const p: Record<string, number> = {};
  for (const x of parts) if (x.type !== 'literal') p[x.type] = Number(x.value);
  return (
    Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(utcMs / 1000) * 1000
  );
}
export function utcString(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
export function localToUtcMs(y: number, m: number, d: number, hh: number, mm: number, tz: string): number {
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let guess = wall - zoneOffsetMs(wall, tz);
  guess = wall - zoneOffsetMs(guess, tz);
  return guess;
}
function utcToLocalParts(value: string, tz: string): { y: number; m: number; d: number } {
  const ms = Date.parse(`${value.replace(' ', 'T')}Z`);
  const local = new Date(ms + zoneOffsetMs(ms, tz));
  return { y: local.getUTCFullYear(), m: local.getUTCMonth() + 1, d: local.getUTCDate() };
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

export class Orm {
  readonly models = new Map<string, ModelDef>();
  readonly records = new Map<string, Map<number, Rec>>();
  private readonly nextIds = new Map<string, number>();
  readonly groups = new Map<number, Group>();
  readonly users = new Map<number, User>();
  readonly rules: RecordRule[] = [];
  /** model → field → the groups allowed to read it (`groups=` on a field, odoo/fields.py). */
  readonly fieldGroups = new Map<string, Record<string, number[]>>();
  /** Every ORM call, for assertions about what the client used. */
  readonly calls: Array<{ model: string; method: string; uid: number; args: Record<string, unknown> }> = [];

  constructor(readonly major: number) {}

  define(def: ModelDef): void {
    this.models.set(def.name, { ...def, fields: { ...STANDARD, ...def.fields } });
    this.records.set(def.name, new Map());
    this.nextIds.set(def.name, 1);
  }

  insert(model: string, values: Record<string, unknown> & { id?: number }): Rec {
    const table = this.table(model);
    const id = values.id ?? this.nextIds.get(model)!;
    this.nextIds.set(model, Math.max(this.nextIds.get(model)!, id + 1));
    const now = utcString(Date.now());
    const rec: Rec = { create_date: now, write_date: now, create_uid: 2, write_uid: 2, ...values, id };
    table.set(id, rec);
    return rec;
  }

  model(name: string): ModelDef {
    const def = this.models.get(name);
    if (!def) throw new OdooException('builtins.KeyError', `'${name}'`);
    return def;
  }

  table(name: string): Map<number, Rec> {
    this.model(name);
    return this.records.get(name)!;
  }

  // ---- access -----------------------------------------------------------------------------------

  checkAccess(model: string, operation: 'read' | 'write' | 'create' | 'unlink', env: Env): void {
    const user = this.users.get(env.uid);
    const right = RIGHT_OF[operation]!;
    const grants = (g: Group) => (g.rights['*'] ?? g.rights[model] ?? '').includes(right);
    if (user && user.groups.some((id) => grants(this.groups.get(id)!))) return;
    const allowed = [...this.groups.values()].filter(grants).map((g) => g.fullName);
    const def = this.model(model);
    throw accessError(aclMessage(operation, def.description, model, allowed));
  }

  /** The rules that apply to this user for this operation on this model. */
  private rulesFor(model: string, operation: RecordRule['operations'][number], user: User): RecordRule[] {
    return this.rules.filter(
      (r) =>
        r.model === model &&
        r.operations.includes(operation) &&
        (!r.groups || r.groups.some((g) => user.groups.includes(g))),
    );
  }

  /** Whether every applying rule lets the user reach the record (group rules are OR-ed, global AND-ed). */
  private ruleAllows(
    model: string,
    operation: RecordRule['operations'][number],
    rec: Rec,
    env: Env,
  ): boolean {
    const user = this.users.get(env.uid);
    if (!user) return true;
    const rules = this.rulesFor(model, operation, user);
    const global = rules.filter((r) => !r.groups);
    const grouped = rules.filter((r) => r.groups);
    return (
      global.every((r) => r.allows(rec, user)) &&
      (!grouped.length || grouped.some((r) => r.allows(rec, user)))
    );
  }

  /** `_check_record_rules` (odoo/models.py): refuse records a rule excludes, with ir_rule.py's message. */
  checkRules(model: string, operation: RecordRule['operations'][number], ids: number[], env: Env): void {
    const user = this.users.get(env.uid);
    if (!user) return;
    const failing = ids
      .map((id) => this.table(model).get(id))
      .filter((rec): rec is Rec => Boolean(rec) && !this.ruleAllows(model, operation, rec!, env));
    if (!failing.length) return;
    const rules = this.rulesFor(model, operation, user).filter((r) =>
      failing.some((rec) => !r.allows(rec, user)),
    );
    const def = this.model(model);
    throw accessError(
      ruleMessage({
        major: this.major,
        operation,
        description: def.description,
        model,
        user: `${user.name} (id=${user.id})`,
        company: rules.some((r) => r.company),
        debug: user.debug
          ? {
              records: failing.map((rec) => ({ id: rec.id, name: this.displayName(model, rec) })),
              rules: rules.map((r) => r.name),
            }
          : undefined,
      }),
    );
  }

  /** Fields restricted by `groups=` that this user may not read (odoo/models.py `_check_field_access`). */
  checkFieldAccess(model: string, fields: string[], operation: string, env: Env): void {
    const restricted = this.fieldGroups.get(model);
    const user = this.users.get(env.uid);
    if (!restricted || !user) return;
    const denied = fields.filter(
      (f) => restricted[f] && !restricted[f]!.some((g) => user.groups.includes(g)),
    );
    if (denied.length) {
      throw accessError(
        fieldAccessMessage(this.major, denied, this.model(model).description, model, operation),
      );
    }
  }

  // ---- values -----------------------------------------------------------------------------------

  displayName(model: string, rec: Rec): string {
    const def = this.model(model);
    if (def.displayName) return def.displayName(rec, this);
    const name = rec.name ?? rec.complete_name;
    return typeof name === 'string' ? name : `${model},${rec.id}`;
  }

  /** The raw value of a field: ids for relations, false for empty. */
  raw(model: string, rec: Rec, field: string, env: Env): unknown {
    if (field === 'id') return rec.id;
    if (field === 'display_name') return this.displayName(model, rec);
    const def = this.model(model).fields[field];
    if (!def) throw valueError(`Invalid field '${field}' on model '${model}'`);
    if (def.compute) return def.compute(rec, env, this);
    if (def.type === 'one2many') {
      return [...this.table(def.relation!).values()]
        .filter((r) => r[def.inverse!] === rec.id)
        .map((r) => r.id);
    }
    const v = rec[field];
    if (v === undefined || v === null) return def.type === 'many2many' ? [] : false;
    return v;
  }

  /** The value as `read` returns it: many2one as [id, display_name]; a binary as its size under bin_size. */
  readValue(model: string, rec: Rec, field: string, env: Env): unknown {
    const def = field === 'id' ? undefined : this.model(model).fields[field];
    const v = this.raw(model, rec, field, env);
    if (
      def?.type === 'binary' &&
      !def.compute &&
      typeof v === 'string' &&
      binSizeRequested(env.context, field)
    ) {
      // Stored in an attachment: `Binary.read` reads `ir.attachment.datas` under bin_size (shapes.ts).
      return humanSize(Buffer.from(v, 'base64').length);
    }
    if (def?.type === 'many2one') {
      if (!v) return false;
      const target = this.table(def.relation!).get(v as number);
      return target ? [target.id, this.displayName(def.relation!, target)] : false;
    }
    return v;
  }

  // ---- domains ----------------------------------------------------------------------------------

  search(model: string, domain: unknown[], env: Env, order?: string): Rec[] {
    const def = this.model(model);
    const full = [...domain];
    const mentionsActive = domain.some((l) => Array.isArray(l) && l[0] === 'active');
    // Top-level terms are ANDed, so the implicit active filter is simply one more term.
    if ('active' in def.fields && !mentionsActive && env.context.active_test !== false) {
      full.push(['active', '=', true]);
    }
    // ir.attachment `_search` (odoo/addons/base/models/ir_attachment.py): unless the domain names `id` or
    // `res_field`, the attachments that hold other models' Binary fields are left out (`res_field = False`).
    if (
      model === 'ir.attachment' &&
      !JSON.stringify(domain).match(/\["(id|res_field)"/) &&
      env.context.skip_res_field_check !== true
    ) {
      full.push(['res_field', '=', false]);
    }
    const tree = parseDomain(full, model);
    // Record rules narrow every search silently (odoo/models.py `_search` adds ir.rule's `_compute_domain`).
    const rows = [...this.table(model).values()].filter(
      (rec) => this.evalNode(model, rec, tree, env) && this.ruleAllows(model, 'read', rec, env),
    );
    return this.sort(model, rows, order ?? def.order, env);
  }

  private evalNode(model: string, rec: Rec, node: DomainNode, env: Env): boolean {
    switch (node.kind) {
      case 'and':
        return node.children.every((c) => this.evalNode(model, rec, c, env));
      case 'or':
        return node.children.some((c) => this.evalNode(model, rec, c, env));
      case 'not':
        return !this.evalNode(model, rec, node.child, env);
      case 'leaf':
        return this.evalLeaf(model, rec, node.leaf, env);
    }
  }

  private evalLeaf(model: string, rec: Rec, leaf: [unknown, string, unknown], env: Env): boolean {
    const [path, op, value] = leaf;
    if (path === 1) return true;
    if (path === 0) return false;
    const steps = String(path).split('.');
    const first = steps[0]!;
    const def = this.model(model);
    const field = first === 'id' ? ({ type: 'integer', string: 'ID' } as FieldDef) : def.fields[first];
    if (!field) throw valueError(invalidDomainField(this.major, model, first, leaf));
    if (steps.length > 1) {
      if (!field.relation)
        throw valueError(`Invalid field ${model}.${String(path)} in leaf ${JSON.stringify(leaf)}`);
      const raw = this.raw(model, rec, first, env);
      const ids = Array.isArray(raw) ? (raw as number[]) : raw ? [raw as number] : [];
      const rest: [unknown, string, unknown] = [steps.slice(1).join('.'), op, value];
      return ids.some((id) => {
        const target = this.table(field.relation!).get(id);
        return target ? this.evalLeaf(field.relation!, target, rest, env) : false;
      });
    }
    const raw = this.raw(model, rec, first, env);
    return this.compare(model, first, field, raw, op.toLowerCase(), value, env);
  }

  private compare(
    model: string,
    name: string,
    field: FieldDef,
    raw: unknown,
    op: string,
    value: unknown,
    env: Env,
  ): boolean {
    const relational = field.type === 'many2one' || field.type === 'one2many' || field.type === 'many2many';
    if (op === 'any' || op === 'not any') {
      const ids = Array.isArray(raw) ? (raw as number[]) : raw ? [raw as number] : [];
      const sub = parseDomain(value as unknown[], field.relation!);
      const hit = ids.some((id) => {
        const target = this.table(field.relation!).get(id);
        return target ? this.evalNode(field.relation!, target, sub, env) : false;
      });
      return op === 'any' ? hit : !hit;
    }
    if (op === 'child_of' || op === 'parent_of') {
      const relModel = name === 'id' ? model : field.relation!;
      const parentField = this.model(relModel).parentField ?? 'parent_id';
      const roots = (Array.isArray(value) ? value : [value]) as number[];
      const ids = Array.isArray(raw) ? (raw as number[]) : raw ? [raw as number] : [];
      const ancestors = (id: number): number[] => {
        const out: number[] = [];
        for (let cur: unknown = id; cur;) {
          out.push(cur as number);
          cur = this.table(relModel).get(cur as number)?.[parentField];
        }
        return out;
      };
      return ids.some((id) =>
        op === 'child_of'
          ? ancestors(id).some((a) => roots.includes(a))
          : roots.some((r) => ancestors(r).includes(id)),
      );
    }
    if (relational) {
      const ids = Array.isArray(raw) ? (raw as number[]) : raw ? [raw as number] : [];
      const names = ids.map((id) => {
        const t = this.table(field.relation!).get(id);
        return t ? this.displayName(field.relation!, t) : '';
      });
      const isText = typeof value === 'string';
      switch (op) {
        case '=':
          if (value === false || value === null) return ids.length === 0;
          return isText ? names.includes(value) : ids.includes(value as number);
        case '!=':
          if (value === false || value === null) return ids.length > 0;
          return isText ? !names.includes(value) : !ids.includes(value as number);
        case 'in':
        case 'not in': {
          const list = value as unknown[];
          const hit =
            (list.includes(false) && ids.length === 0) ||
            ids.some((id, i) => list.includes(id) || list.includes(names[i]));
          return op === 'in' ? hit : !hit;
        }
        case 'like':
        case 'ilike':
        case '=like':
        case '=ilike':
          return names.some((n) => textMatch(n, String(value), op));
        case 'not like':
        case 'not ilike':
          return !names.some((n) => textMatch(n, String(value), op.slice(4)));
        default:
          throw valueError(`Invalid operator ${op} for relational field ${model}.${name}`);
      }
    }
    let v = raw;
    let target = value;
    if (field.type === 'datetime' && typeof target === 'string' && target.length === 10)
      target = `${target} 00:00:00`;
    if (field.type === 'boolean') v = v === true;
    switch (op) {
      case '=?':
        if (target === false || target === null) return true;
        return equal(v, target, field);
      case '=':
        return equal(v, target, field);
      case '!=':
        return !equal(v, target, field);
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (v === false || v === null || target === false || target === null) return false;
        const c =
          typeof v === 'number' && typeof target === 'number'
            ? v - target
            : String(v).localeCompare(String(target));
        return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
      }
      case 'in':
        return (target as unknown[]).some((t) => equal(v, t, field));
      case 'not in':
        return !(target as unknown[]).some((t) => equal(v, t, field));
      case 'like':
      case 'ilike':
      case '=like':
      case '=ilike':
        return typeof v === 'string' && textMatch(v, String(target), op);
      case 'not like':
      case 'not ilike':
        return !(typeof v === 'string' && textMatch(v, String(target), op.slice(4)));
      default:
        throw valueError(`Invalid leaf operator ${op}`);
    }
  }

  sort(model: string, rows: Rec[], order: string, env: Env): Rec[] {
    const terms = order
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean)
      .map((t) => {
        const [f, dir] = t.split(/\s+/);
        return { f: f!, desc: dir?.toLowerCase() === 'desc' };
      });
    const def = this.model(model);
    for (const t of terms) {
      if (t.f !== 'id' && !(t.f in def.fields))
        throw valueError(`Invalid field '${t.f}' on model '${model}'`);
    }
    const key = (rec: Rec, f: string): unknown => {
      const field = def.fields[f];
      const v = this.raw(model, rec, f, env);
      if (field?.type === 'many2one' && v) {
        const t = this.table(field.relation!).get(v as number);
        return t ? this.displayName(field.relation!, t) : '';
      }
      return v;
    };
    return [...rows].sort((a, b) => {
      for (const t of [...terms, { f: 'id', desc: false }]) {
        const c = cmp(key(a, t.f), key(b, t.f));
        if (c !== 0) return t.desc ? -c : c;
      }
      return 0;
    });
  }

  // ---- methods ----------------------------------------------------------------------------------

  fieldsGet(model: string, attributes?: string[], env?: Env): Record<string, Record<string, unknown>> {
    const def = this.model(model);
    const out: Record<string, Record<string, unknown>> = {};
    const restricted = this.fieldGroups.get(model) ?? {};
    const user = env ? this.users.get(env.uid) : undefined;
    for (const [name, f] of Object.entries(def.fields)) {
      // odoo/models.py `fields_get` leaves out the fields restricted to groups the user is not in.
      if (restricted[name] && !restricted[name]!.some((g) => user?.groups.includes(g))) continue;
      const full: Record<string, unknown> = {
        string: f.string,
        type: f.type,
        required: f.required ?? false,
        readonly: f.readonly ?? false,
        store: f.store ?? !f.compute,
        sortable: f.store ?? !f.compute,
        help: f.help,
      };
      if (f.relation) full.relation = f.relation;
      if (f.selection) full.selection = f.selection;
      if (full.help === undefined) delete full.help;
      out[name] = attributes?.length
        ? Object.fromEntries(Object.entries(full).filter(([k]) => attributes.includes(k)))
        : full;
    }
    return out;
  }

  checkFields(model: string, fields: string[]): void {
    const def = this.model(model);
    for (const f of fields) {
      if (f !== 'id' && !(f in def.fields)) throw valueError(`Invalid field '${f}' on model '${model}'`);
    }
  }

  read(model: string, ids: number[], fields: string[] | undefined, env: Env): Array<Record<string, unknown>> {
    const def = this.model(model);
    const restricted = this.fieldGroups.get(model) ?? {};
    const user = this.users.get(env.uid);
    // Without a field list, Odoo reads only the fields the user may (odoo/models.py `_determine_fields_to_fetch`).
    const names = fields?.length
      ? fields
      : Object.keys(def.fields).filter(
          (f) => !restricted[f] || restricted[f]!.some((g) => user?.groups.includes(g)),
        );
    this.checkFields(model, names);
    this.checkFieldAccess(model, names, 'read', env);
    const missing = ids.filter((id) => !this.table(model).has(id));
    if (missing.length) {
      // `Field.__get__` (odoo/fields.py 17.0 @5a953f3, 18.0 @350b3b2; odoo/orm/fields.py 19.0 @85dffc0) raises for
      // the first record read that is gone, one record: "(Record: sale.order(9999,), User: 2)".
      throw missingError(
        `Record does not exist or has been deleted.\n(Record: ${model}(${missing[0]},), User: ${env.uid})`,
      );
    }
    this.checkRules(model, 'read', ids, env);
    return ids.map((id) => {
      const rec = this.table(model).get(id)!;
      const row: Record<string, unknown> = { id };
      for (const f of names) if (f !== 'id') row[f] = this.readValue(model, rec, f, env);
      return row;
    });
  }

  searchRead(
    model: string,
    args: {
      domain?: unknown[];
      fields?: string[];
      offset?: number;
      limit?: number | null;
      order?: string | null;
    },
    env: Env,
  ): Array<Record<string, unknown>> {
    if (args.fields?.length) this.checkFields(model, args.fields);
    const rows = this.search(model, args.domain ?? [], env, args.order ?? undefined);
    const page = rows.slice(args.offset ?? 0, args.limit ? (args.offset ?? 0) + args.limit : undefined);
    return this.read(
      model,
      page.map((r) => r.id),
      args.fields,
      env,
    );
  }

  /** Group records; keys per groupby spec, in the context's time zone for datetimes. */
  private groupRecords(model: string, domain: unknown[], groupby: string[], env: Env) {
    const def = this.model(model);
    const tz = typeof env.context.tz === 'string' ? env.context.tz : 'UTC';
    const specs = groupby.map((spec) => {
      const [fname, gran] = spec.split(':');
      const field = def.fields[fname!];
      if (!field) throw valueError(`Invalid field '${fname}' on model '${model}'`);
      if (field.store === false || field.compute) throw valueError(`Field ${model}.${fname} is not stored`);
      const isDate = field.type === 'date' || field.type === 'datetime';
      return { spec, fname: fname!, field, gran: isDate ? (gran ?? 'month') : undefined };
    });
    const rows = this.search(model, domain, env);
    const groups = new Map<string, { keys: unknown[]; records: Rec[] }>();
    for (const rec of rows) {
      const keys = specs.map((s) => {
        const v = this.raw(model, rec, s.fname, env);
        if (!s.gran || !v) return Array.isArray(v) ? JSON.stringify(v) : v;
        const parts =
          s.field.type === 'datetime'
            ? utcToLocalParts(String(v), tz)
            : { y: +String(v).slice(0, 4), m: +String(v).slice(5, 7), d: +String(v).slice(8, 10) };
        return periodStart(parts, s.gran);
      });
      const k = JSON.stringify(keys);
      const g = groups.get(k) ?? { keys, records: [] };
      g.records.push(rec);
      groups.set(k, g);
    }
    const list = [...groups.values()];
    list.sort((a, b) => {
      for (let i = 0; i < specs.length; i++) {
        const s = specs[i]!;
        let ka = a.keys[i];
        let kb = b.keys[i];
        if (s.field.type === 'many2one') {
          const name = (id: unknown) =>
            id ? this.displayName(s.field.relation!, this.table(s.field.relation!).get(id as number)!) : '';
          ka = name(ka);
          kb = name(kb);
        }
        const c = cmp(ka, kb);
        if (c !== 0) return c;
      }
      return 0;
    });
    return { specs, groups: list, tz };
  }

  private groupValue(
    spec: { fname: string; field: FieldDef; gran: string | undefined },
    key: unknown,
    tz: string,
    modern: boolean,
  ): { value: unknown; domain: unknown[]; range?: { from: string; to: string } } {
    const { fname, field, gran } = spec;
    if (gran && key) {
      const start = key as string; // local YYYY-MM-DD
      const end = periodEnd(start, gran);
      const toDb = (d: string) =>
        field.type === 'datetime'
          ? utcString(localToUtcMs(+d.slice(0, 4), +d.slice(5, 7), +d.slice(8, 10), 0, 0, tz))
          : d;
      const from = toDb(start);
      const to = toDb(end);
      const label = periodLabel(start, gran);
      return {
        value: modern ? [from, label] : label,
        domain: [
          [fname, '>=', from],
          [fname, '<', to],
        ],
        range: { from, to },
      };
    }
    if (field.type === 'many2one') {
      if (!key) return { value: false, domain: [[fname, '=', false]] };
      const t = this.table(field.relation!).get(key as number)!;
      return { value: [t.id, this.displayName(field.relation!, t)], domain: [[fname, '=', key]] };
    }
    if (typeof key === 'string' && key.startsWith('[')) {
      return { value: JSON.parse(key), domain: [[fname, '=', JSON.parse(key)]] };
    }
    return { value: key ?? false, domain: [[fname, '=', key ?? false]] };
  }

  private aggregate(model: string, records: Rec[], field: string, fn: string, env: Env): unknown {
    const def = this.model(model).fields[field];
    if (!def) throw valueError(`Invalid field '${field}' on model '${model}'`);
    const values = records
      .map((r) => this.raw(model, r, field, env))
      .filter((v) => v !== false && v !== null);
    switch (fn) {
      case 'sum':
        return values.reduce((s: number, v) => s + Number(v), 0);
      case 'avg':
        return values.length ? values.reduce((s: number, v) => s + Number(v), 0) / values.length : false;
      case 'min':
        return values.length ? values.reduce((a, b) => (cmp(a, b) <= 0 ? a : b)) : false;
      case 'max':
        return values.length ? values.reduce((a, b) => (cmp(a, b) >= 0 ? a : b)) : false;
      case 'count':
        return values.length;
      case 'count_distinct':
        return new Set(values.map((v) => JSON.stringify(v))).size;
      default:
        throw valueError(`Invalid aggregation function ${JSON.stringify(fn)}.`);
    }
  }

  /** Odoo ≤ 18 `read_group`. */
  readGroup(
    model: string,
    args: {
      domain?: unknown[];
      fields?: string[];
      groupby?: string[] | string;
      offset?: number;
      limit?: number | null;
      orderby?: string | false;
      lazy?: boolean;
    },
    env: Env,
  ): Array<Record<string, unknown>> {
    const groupby = typeof args.groupby === 'string' ? [args.groupby] : (args.groupby ?? []);
    const lazy = args.lazy !== false;
    const used = lazy ? groupby.slice(0, 1) : groupby;
    const { specs, groups, tz } = this.groupRecords(model, args.domain ?? [], used, env);
    const aggs = (args.fields ?? []).map((spec) => {
      const m = /^(\w+)(?::(\w+)(?:\((\w+)\))?)?$/.exec(spec);
      if (!m) throw valueError(`Invalid field specification ${JSON.stringify(spec)}.`);
      const [, name, fn, fname] = m;
      return { key: name!, fn: fn ?? 'sum', field: fname ?? name! };
    });
    const rows = groups.map((g) => {
      const row: Record<string, unknown> = {};
      const domainParts: unknown[] = [];
      const range: Record<string, unknown> = {};
      specs.forEach((s, i) => {
        const gv = this.groupValue(s, g.keys[i], tz, false);
        row[s.spec] = gv.value;
        domainParts.push(...gv.domain);
        if (gv.range) range[s.spec] = gv.range;
      });
      for (const a of aggs) row[a.key] = this.aggregate(model, g.records, a.field, a.fn, env);
      if (lazy && used.length) row[`${used[0]}_count`] = g.records.length;
      else row.__count = g.records.length;
      row.__domain = ['&', ...andAll(domainParts), ...andAll(args.domain ?? [[1, '=', 1]])];
      if (Object.keys(range).length) row.__range = range;
      if (lazy && groupby.length > 1) row.__context = { group_by: groupby.slice(1) };
      return row;
    });
    if (groupby.length === 0 && rows.length === 0) {
      const row: Record<string, unknown> = { __count: 0, __domain: args.domain ?? [] };
      for (const a of aggs) row[a.key] = a.fn === 'count' ? 0 : false;
      return [row];
    }
    return rows.slice(args.offset ?? 0, args.limit ? (args.offset ?? 0) + args.limit : undefined);
  }

  /** Odoo 19 `formatted_read_group`. */
  formattedReadGroup(
    model: string,
    args: {
      domain?: unknown[];
      groupby?: string[];
      aggregates?: string[];
      having?: unknown[];
      offset?: number;
      limit?: number | null;
      order?: string | null;
    },
    env: Env,
  ): Array<Record<string, unknown>> {
    const { specs, groups, tz } = this.groupRecords(model, args.domain ?? [], args.groupby ?? [], env);
    const rows = groups.map((g) => {
      const row: Record<string, unknown> = {};
      const extra: unknown[] = [];
      specs.forEach((s, i) => {
        const gv = this.groupValue(s, g.keys[i], tz, true);
        row[s.spec] = gv.value;
        extra.push(...gv.domain);
      });
      for (const spec of args.aggregates ?? []) {
        if (spec === '__count') {
          row.__count = g.records.length;
          continue;
        }
        const [field, fn] = spec.split(':');
        if (!fn) throw valueError(`Invalid aggregate specification ${JSON.stringify(spec)}`);
        row[spec] = this.aggregate(model, g.records, field!, fn, env);
      }
      row.__extra_domain = andAll(extra);
      return row;
    });
    if (specs.length === 0 && rows.length === 0) {
      const row: Record<string, unknown> = { __extra_domain: [] };
      for (const spec of args.aggregates ?? [])
        row[spec] = spec === '__count' || spec.endsWith(':count') ? 0 : false;
      return [row];
    }
    return rows.slice(args.offset ?? 0, args.limit ? (args.offset ?? 0) + args.limit : undefined);
  }

  create(model: string, valsList: Array<Record<string, unknown>>, env: Env): number[] {
    const def = this.model(model);
    return valsList.map((vals) => {
      const clean = this.cleanValues(model, vals);
      for (const [name, f] of Object.entries(def.fields)) {
        if (f.required && !STANDARD[name] && (clean[name] === undefined || clean[name] === false)) {
          throw validationError(
            `The operation cannot be completed: Missing required fields on ${def.description}: ${f.string}`,
          );
        }
      }
      const children: Array<[FieldDef, Record<string, unknown>]> = [];
      for (const [name, f] of Object.entries(def.fields)) {
        if (f.type !== 'one2many' || !Array.isArray(clean[name])) continue;
        for (const cmd of clean[name] as unknown[][])
          if (cmd[0] === 0) children.push([f, cmd[2] as Record<string, unknown>]);
        delete clean[name];
      }
      const id = this.insert(model, { ...clean, create_uid: env.uid, write_uid: env.uid }).id;
      for (const [f, vals] of children) this.create(f.relation!, [{ ...vals, [f.inverse!]: id }], env);
      return id;
    });
  }

  write(model: string, ids: number[], vals: Record<string, unknown>, env: Env): true {
    const table = this.table(model);
    const missing = ids.filter((id) => !table.has(id));
    if (missing.length) {
      throw missingError(
        `Record does not exist or has been deleted.\n(Record: ${model}(${missing.join(', ')},), User: ${env.uid})`,
      );
    }
    this.checkRules(model, 'write', ids, env);
    const clean = this.cleanValues(model, vals);
    for (const id of ids)
      Object.assign(table.get(id)!, clean, { write_uid: env.uid, write_date: utcString(Date.now()) });
    return true;
  }

  unlink(model: string, ids: number[], env: Env): true {
    const table = this.table(model);
    const missing = ids.filter((id) => !table.has(id));
    if (missing.length) {
      throw missingError(
        `Record does not exist or has been deleted.\n(Record: ${model}(${missing.join(', ')},), User: ${env.uid})`,
      );
    }
    this.checkRules(model, 'unlink', ids, env);
    for (const [name, def] of this.models) {
      for (const [fname, f] of Object.entries(def.fields)) {
        if (f.type !== 'many2one' || f.relation !== model || !f.required) continue;
        const blocking = [...this.table(name).values()].find((r) => ids.includes(r[fname] as number));
        if (blocking) {
          throw userError(
            `The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\nModel: ${def.description} (${name}), Field: ${f.string} (${fname})`,
          );
        }
      }
    }
    for (const id of ids) table.delete(id);
    return true;
  }

  /** Check written values like Odoo's convert_to_cache would, and apply x2many commands. */
  private cleanValues(model: string, vals: Record<string, unknown>): Record<string, unknown> {
    const def = this.model(model);
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(vals)) {
      const f = def.fields[name];
      if (!f) throw valueError(`Invalid field '${name}' on model '${model}'`);
      if (f.type === 'many2one' && value !== false && !this.table(f.relation!).has(value as number)) {
        throw missingError(
          `Record does not exist or has been deleted.\n(Record: ${f.relation}(${String(value)},), User: 2)`,
        );
      }
      if (f.type === 'many2many' && Array.isArray(value)) {
        let ids: number[] = [];
        for (const cmd of value as unknown[][]) {
          if (cmd[0] === 6) ids = [...(cmd[2] as number[])];
          else if (cmd[0] === 4) ids.push(cmd[1] as number);
          else if (cmd[0] === 5) ids = [];
        }
        out[name] = ids;
        continue;
      }
      if (f.type === 'selection' && value !== false && !f.selection!.some(([k]) => k === value)) {
        throw valueError(`Wrong value for ${model}.${name}: ${JSON.stringify(value)}`);
      }
      out[name] = value;
    }
    return out;
  }
}

// ---- domain parsing ---------------------------------------------------------------------------

type DomainNode =
  | { kind: 'and' | 'or'; children: DomainNode[] }
  | { kind: 'not'; child: DomainNode }
  | { kind: 'leaf'; leaf: [unknown, string, unknown] };

function parseDomain(domain: unknown[], model: string): DomainNode {
  let i = 0;
  const next = (): DomainNode => {
    const token = domain[i++];
    if (token === '&' || token === '|') {
      const a = next();
      const b = next();
      return { kind: token === '&' ? 'and' : 'or', children: [a, b] };
    }
    if (token === '!') return { kind: 'not', child: next() };
    if (Array.isArray(token) && token.length === 3 && typeof token[1] === 'string') {
      return { kind: 'leaf', leaf: token as [unknown, string, unknown] };
    }
    throw valueError(`Invalid domain term ${JSON.stringify(token)} on model ${model}`);
  };
  const nodes: DomainNode[] = [];
  while (i < domain.length) nodes.push(next());
  return { kind: 'and', children: nodes };
}

function andAll(parts: unknown[]): unknown[] {
  const leaves = parts;
  if (leaves.length <= 1) return [...leaves];
  const out: unknown[] = [];
  for (let i = 1; i < leaves.length; i++) out.push('&');
  return [...out, ...leaves];
}

function textMatch(text: string, pattern: string, op: string): boolean {
  const insensitive = op.includes('ilike');
  const exact = op.startsWith('=');
  const escaped = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/%/g, '.*')
    .replace(/_/g, '.');
  const re = new RegExp(exact ? `^${escaped}$` : escaped, insensitive ? 'is' : 's');
  return re.test(text);
}

function equal(v: unknown, target: unknown, field: FieldDef): boolean {
  if (target === false || target === null)
    return field.type === 'boolean' ? v === false : v === false || v === null;
  return v === target;
}

function cmp(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const empty = (x: unknown) => x === false || x === null || x === undefined;
  if (empty(a)) return 1;
  if (empty(b)) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

const pad = (n: number) => String(n).padStart(2, '0');

function periodStart(p: { y: number; m: number; d: number }, gran: string): string {
  switch (gran) {
    case 'day':
      return `${p.y}-${pad(p.m)}-${pad(p.d)}`;
    case 'week': {
      const t = new Date(Date.UTC(p.y, p.m - 1, p.d));
      t.setUTCDate(t.getUTCDate() - ((t.getUTCDay() + 6) % 7));
      return t.toISOString().slice(0, 10);
    }
    case 'quarter':
      return `${p.y}-${pad(Math.floor((p.m - 1) / 3) * 3 + 1)}-01`;
    case 'year':
      return `${p.y}-01-01`;
    default:
      return `${p.y}-${pad(p.m)}-01`;
  }
}

function periodEnd(start: string, gran: string): string {
  const t = new Date(`${start}T00:00:00Z`);
  if (gran === 'day') t.setUTCDate(t.getUTCDate() + 1);
  else if (gran === 'week') t.setUTCDate(t.getUTCDate() + 7);
  else if (gran === 'quarter') t.setUTCMonth(t.getUTCMonth() + 3);
  else if (gran === 'year') t.setUTCFullYear(t.getUTCFullYear() + 1);
  else t.setUTCMonth(t.getUTCMonth() + 1);
  return t.toISOString().slice(0, 10);
}

/** Odoo's (babel's) group labels: "January 2025", "05 Jan 2025", "W02 2025", "Q1 2025", "2025". */
function periodLabel(start: string, gran: string): string {
  const y = +start.slice(0, 4);
  const m = +start.slice(5, 7);
  const d = +start.slice(8, 10);
  switch (gran) {
    case 'day':
      return `${pad(d)} ${MONTHS[m - 1]!.slice(0, 3)} ${y}`;
    case 'week': {
      const t = new Date(Date.UTC(y, m - 1, d + 3));
      const jan4 = new Date(Date.UTC(t.getUTCFullYear(), 0, 4));
      const week =
        1 +
        Math.round(
          (t.getTime() - jan4.getTime()) / 86_400_000 / 7 + ((jan4.getUTCDay() + 6) % 7) / 7 - 3 / 7,
        );
      return `W${pad(week)} ${t.getUTCFullYear()}`;
    }
    case 'quarter':
      return `Q${Math.floor((m - 1) / 3) + 1} ${y}`;
    case 'year':
      return String(y);
    default:
      return `${MONTHS[m - 1]} ${y}`;
  }
}
