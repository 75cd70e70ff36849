/**
 * Odoo domains checked before they are sent: the prefix-notation shape, the operators, and every field
 * (dotted paths included) against `fields_get`, so that a wrong domain is answered with what is wrong
 * rather than with a server traceback. Datetime values are read in the user's time zone and sent in UTC.
 */
import { UserInputError } from '@switchyard/core';
import { localToUtc } from './dates.js';
import { resolvePath } from './fields.js';
import type { OdooClient } from './odoo-client.js';

export const OPERATORS = [
  '=',
  '!=',
  '<',
  '<=',
  '>',
  '>=',
  '=?',
  'in',
  'not in',
  'like',
  'not like',
  'ilike',
  'not ilike',
  '=like',
  '=ilike',
  'child_of',
  'parent_of',
  'any',
  'not any',
] as const;

const LOGIC = new Set(['&', '|', '!']);
const LIST_OPS = new Set(['in', 'not in']);
const TEXT_OPS = new Set(['like', 'not like', 'ilike', 'not ilike', '=like', '=ilike']);
const COMPARE_OPS = new Set(['=', '!=', '<', '<=', '>', '>=', '=?']);
const SUBDOMAIN_OPS = new Set(['any', 'not any']);

export type Domain = unknown[];

const show = (value: unknown): string => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 119)}…` : text;
};

function invalid(reason: string): UserInputError {
  return new UserInputError(`The domain is invalid: ${reason}`, {
    hint: 'Write it in prefix notation, e.g. ["|", ["state", "=", "sale"], ["amount_total", ">", 1000]]',
  });
}

export interface DomainOptions {
  tz: string;
  /** The server's major version: `any` / `not any` need 17 or newer. */
  major: number;
  signal?: AbortSignal | undefined;
}

/** Check a domain and return it ready to send (datetimes in UTC). */
export async function validateDomain(
  client: OdooClient,
  model: string,
  domain: unknown,
  options: DomainOptions,
): Promise<Domain> {
  if (domain === undefined || domain === null) return [];
  if (!Array.isArray(domain)) {
    throw invalid(`it must be a list of conditions, got ${show(domain)}`);
  }
  checkShape(domain);
  const out: Domain = [];
  for (const item of domain) {
    if (typeof item === 'string') out.push(item);
    else out.push(await checkLeaf(client, model, item as unknown[], options));
  }
  return out;
}

/** Every element is '&', '|', '!' or a [field, operator, value] list, and each operator has its operands. */
function checkShape(domain: unknown[]): void {
  domain.forEach((item, i) => {
    if (typeof item === 'string') {
      if (!LOGIC.has(item)) {
        throw invalid(
          `element ${i + 1} (${show(item)}) is neither a condition [field, operator, value] nor one of '&', '|', '!'`,
        );
      }
      return;
    }
    if (!Array.isArray(item) || item.length !== 3) {
      throw invalid(
        `element ${i + 1} (${show(item)}) is neither a condition [field, operator, value] nor one of '&', '|', '!'`,
      );
    }
    const [field, operator] = item as unknown[];
    const constant = (field === 0 || field === 1) && operator === '=' && item[2] === 1;
    if (typeof field !== 'string' && !constant) {
      throw invalid(`condition ${show(item)} must start with a field name`);
    }
  });
  // Right to left: each operator consumes its operands and leaves one result.
  let available = 0;
  for (let i = domain.length - 1; i >= 0; i--) {
    const item = domain[i];
    if (typeof item !== 'string') {
      available++;
      continue;
    }
    const needed = item === '!' ? 1 : 2;
    if (available < needed) {
      const has = available === 0 ? 'none' : `only ${available}`;
      throw invalid(
        `'${item}' at element ${i + 1} needs ${needed === 1 ? 'one condition' : 'two conditions'} after it, but has ${has}`,
      );
    }
    available -= needed - 1;
  }
}

async function checkLeaf(
  client: OdooClient,
  model: string,
  leaf: unknown[],
  options: DomainOptions,
): Promise<unknown[]> {
  const [path, operator, value] = leaf as [unknown, unknown, unknown];
  if (typeof path !== 'string') return leaf; // the constant leaves [1, '=', 1] and [0, '=', 1]
  const where = `In the domain condition ${show(leaf)}, `;
  if (typeof operator !== 'string' || !(OPERATORS as readonly string[]).includes(operator.toLowerCase())) {
    throw invalid(
      `condition ${show(leaf)} uses the operator ${show(operator)}, which Odoo does not know; use one of ${OPERATORS.join(', ')}`,
    );
  }
  const op = operator.toLowerCase();
  if (SUBDOMAIN_OPS.has(op) && options.major < 17) {
    throw invalid(`condition ${show(leaf)} uses '${op}', which needs Odoo 17 or newer`);
  }
  const target = await resolvePath(client, model, path, options.signal, where);
  const field = target.field;
  if (LIST_OPS.has(op) && !Array.isArray(value)) {
    throw invalid(
      `condition ${show(leaf)} needs a list value for '${op}', e.g. ["state", "in", ["sale", "done"]]`,
    );
  }
  if (TEXT_OPS.has(op) && typeof value !== 'string') {
    throw invalid(`condition ${show(leaf)} needs a text value for '${op}'`);
  }
  if (COMPARE_OPS.has(op) && Array.isArray(value)) {
    throw invalid(`condition ${show(leaf)} compares with a list; use 'in' or 'not in' for lists`);
  }
  if (SUBDOMAIN_OPS.has(op)) {
    if (!field?.relation) {
      throw invalid(
        `condition ${show(leaf)} uses '${op}' on ${target.model}.${target.name}, which is not a relation`,
      );
    }
    if (!Array.isArray(value)) throw invalid(`condition ${show(leaf)} needs a domain (a list) as its value`);
    const sub = await validateDomain(client, field.relation, value, options);
    return [path, op, sub];
  }
  if ((op === 'child_of' || op === 'parent_of') && !field?.relation && target.name !== 'id') {
    throw invalid(
      `condition ${show(leaf)} uses '${op}' on ${target.model}.${target.name}, which is not a relation`,
    );
  }
  if (field?.type === 'datetime' && COMPARE_OPS.has(op) && typeof value === 'string') {
    return [path, op, toUtc(value, options.tz, leaf)];
  }
  if (field?.type === 'selection' && field.selection && (op === '=' || op === '!=' || LIST_OPS.has(op))) {
    const allowed = new Set(field.selection.map(([key]) => key));
    const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== false && v !== null);
    const wrong = values.find((v) => typeof v !== 'string' || !allowed.has(v));
    if (wrong !== undefined) {
      throw invalid(
        `condition ${show(leaf)}: ${show(wrong)} is not a value of ${target.model}.${target.name}; the values are ${[...allowed].join(', ')}`,
      );
    }
  }
  return [path, op, value];
}

/** A local date or date-time (the user's zone) → UTC, as Odoo compares datetimes. */
function toUtc(value: string, tz: string, leaf: unknown[]): string {
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return localToUtc(`${v} 00:00:00`, tz);
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/.test(v)) return localToUtc(v, tz);
  throw invalid(
    `condition ${show(leaf)} compares a datetime with '${value}', which is not like 2025-06-12 14:30`,
  );
}

/** AND several domains (each may be empty). */
export function and(...domains: Domain[]): Domain {
  const parts = domains.filter((d) => d.length > 0);
  if (parts.length <= 1) return parts[0] ?? [];
  const out: Domain = [];
  for (let i = 1; i < parts.length; i++) out.push('&');
  for (const d of parts) out.push(...normalize(d));
  return out;
}

/** Make implicit ANDs explicit so the domain can be nested. */
export function normalize(domain: Domain): Domain {
  let expected = 1;
  const out: Domain = [];
  for (const item of domain) {
    if (expected === 0) {
      out.unshift('&');
      expected = 1;
    }
    if (typeof item === 'string' && (item === '&' || item === '|')) expected += 1;
    else if (item !== '!') expected -= 1;
    out.push(item);
  }
  return out;
}
