// The OData and KQL subset the fake Graph understands, with Graph's own refusals: an unknown $filter
// clause, $search combined with $filter or $orderby, and an $orderby whose property does not lead the
// $filter (InefficientFilter).

export class ODataError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type Predicate<T> = (item: T) => boolean;

/** Split on a separator outside single or double quotes and parentheses. */
function splitTop(text: string, separator: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) {
        if (quote === "'" && text[i + 1] === "'") i++;
        else quote = undefined;
      }
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0) {
      separator.lastIndex = i;
      const m = separator.exec(text);
      if (m && m.index === i) {
        parts.push(text.slice(start, i));
        start = i + m[0].length;
        i = start - 1;
      }
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

const unquote = (s: string) => s.replace(/^'|'$/g, '').replace(/''/g, "'");

export interface FilterClause {
  property: string;
  test: (value: unknown) => boolean;
}

/** Parse `a ge X and contains(b,'y') and c eq false` into clauses on property paths. */
export function parseFilter(filter: string): FilterClause[] {
  return splitTop(filter, / and /giy).map((clause) => {
    const contains = /^contains\(\s*([\w/]+)\s*,\s*('(?:[^']|'')*')\s*\)$/i.exec(clause);
    if (contains) {
      const needle = unquote(contains[2]!).toLowerCase();
      return {
        property: contains[1]!,
        test: (v) =>
          String(v ?? '')
            .toLowerCase()
            .includes(needle),
      };
    }
    const cmp = /^([\w/]+)\s+(eq|ne|ge|gt|le|lt)\s+(.+)$/i.exec(clause);
    if (!cmp) throw new ODataError('BadRequest', `Invalid filter clause: ${clause}`);
    const [, property, op, rawValue] = cmp as unknown as [string, string, string, string];
    let value: unknown;
    if (/^'.*'$/.test(rawValue)) value = unquote(rawValue);
    else if (rawValue === 'true' || rawValue === 'false') value = rawValue === 'true';
    else if (/^\d{4}-\d{2}-\d{2}T/.test(rawValue)) value = Date.parse(rawValue);
    else if (/^-?\d+(\.\d+)?$/.test(rawValue)) value = Number(rawValue);
    else throw new ODataError('BadRequest', `Invalid filter value: ${rawValue}`);
    const compare = (v: unknown): number => {
      const left = typeof value === 'number' && typeof v === 'string' ? Date.parse(v) : v;
      if (typeof value === 'string' && typeof left === 'string')
        return left.toLowerCase().localeCompare(value.toLowerCase());
      return (left as number) < (value as number) ? -1 : (left as number) > (value as number) ? 1 : 0;
    };
    const tests: Record<string, (v: unknown) => boolean> = {
      eq: (v) => compare(v) === 0,
      ne: (v) => compare(v) !== 0,
      ge: (v) => compare(v) >= 0,
      gt: (v) => compare(v) > 0,
      le: (v) => compare(v) <= 0,
      lt: (v) => compare(v) < 0,
    };
    return { property, test: tests[op.toLowerCase()]! };
  });
}

/** A property path (`from/emailAddress/address`) of an object. */
export function pick(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const key of path.split('/')) cur = (cur as Record<string, unknown> | undefined)?.[key];
  return cur;
}

/**
 * Check the message query rules Graph enforces, then build the predicate. `$search` must be quoted and
 * cannot be combined with `$filter` or `$orderby`; `$orderby` properties must lead `$filter`.
 */
export function messageQuery(query: URLSearchParams): {
  predicate: Predicate<Record<string, unknown>>;
  order: 'received desc' | 'none';
} {
  const search = query.get('$search');
  const filter = query.get('$filter');
  const orderby = query.get('$orderby');
  if (search !== null) {
    if (filter !== null) {
      throw new ODataError(
        'ErrorInvalidUrlQuery',
        "The query parameter '$filter' is not supported with '$search'.",
      );
    }
    if (orderby !== null) {
      throw new ODataError(
        'ErrorInvalidUrlQuery',
        "The query parameter '$orderby' is not supported with '$search'.",
      );
    }
    if (!/^".*"$/s.test(search))
      throw new ODataError('BadRequest', 'Syntax error: $search must be a quoted string.');
    return { predicate: kqlPredicate(search.slice(1, -1)), order: 'received desc' };
  }
  const clauses = filter ? parseFilter(filter) : [];
  if (orderby && clauses.length > 0) {
    const orderProp = orderby.split(/\s+/)[0]!;
    if (clauses[0]!.property.toLowerCase() !== orderProp.toLowerCase()) {
      throw new ODataError(
        'InefficientFilter',
        'The restriction or sort order is too complex for this operation.',
      );
    }
  }
  return {
    predicate: (m) => clauses.every((c) => c.test(pick(m, c.property))),
    order: orderby ? 'received desc' : 'none',
  };
}

/** KQL over messages: `a OR b`, `x AND y`, `from:`, `to:`, `subject:`, `received>=`, `isread:`, `hasattachments:`. */
export function kqlPredicate(kql: string): Predicate<Record<string, unknown>> {
  const text = kql.replace(/\\"/g, '"');
  const anyOf = splitTop(text, / OR /y).map((group) =>
    splitTop(group.replace(/ AND /g, ' '), / +/y).map((term) => termPredicate(term)),
  );
  return (m) => anyOf.some((all) => all.every((p) => p(m)));
}

function termPredicate(term: string): Predicate<Record<string, unknown>> {
  const m = /^(\w+)(:|>=|<=|>|<)(.+)$/.exec(term);
  const value = (m ? m[3]! : term).replace(/^"|"$/g, '').toLowerCase();
  const has = (v: unknown) =>
    String(v ?? '')
      .toLowerCase()
      .includes(value);
  const addresses = (list: unknown) =>
    ((list as Array<{ emailAddress?: { name?: string; address?: string } }>) ?? []).some(
      (r) => has(r.emailAddress?.address) || has(r.emailAddress?.name),
    );
  if (!m) {
    return (msg) =>
      has(msg.subject) ||
      has((msg.body as { content?: string })?.content) ||
      addresses([msg.from]) ||
      has(msg.bodyPreview);
  }
  const prop = m[1]!.toLowerCase();
  const op = m[2]!;
  switch (prop) {
    case 'from':
      return (msg) => addresses([msg.from]);
    case 'to':
      return (msg) => addresses(msg.toRecipients);
    case 'subject':
      return (msg) => has(msg.subject);
    case 'body':
      return (msg) => has((msg.body as { content?: string })?.content);
    case 'isread':
      return (msg) => String(msg.isRead) === value;
    case 'hasattachments':
      return (msg) => String(msg.hasAttachments) === value;
    case 'received': {
      const t = Date.parse(value);
      return (msg) => {
        const r = Date.parse(String(msg.receivedDateTime));
        return op === '>=' ? r >= t : op === '>' ? r > t : op === '<=' ? r <= t : r < t;
      };
    }
    default:
      throw new ODataError('BadRequest', `Unsupported KQL property: ${prop}`);
  }
}

/** Only the `$select`ed properties (and `id`), as Graph answers. */
export function select<T extends Record<string, unknown>>(
  item: T,
  query: URLSearchParams,
): Record<string, unknown> {
  const fields = query.get('$select');
  if (!fields) return item;
  const out: Record<string, unknown> = { id: item.id };
  for (const f of fields.split(',').map((s) => s.trim())) if (f in item) out[f] = item[f];
  return out;
}
