import { UserInputError, defineTool, untrusted, z } from '@switchyard/core';
import { localToUtc, parseDate } from '../dates.js';
import { unknownField } from '../fields.js';
import type { FieldMap, OdooClient } from '../odoo-client.js';
import { checkModel, modelArg, type OdooDeps } from './common.js';

const valuesArg = z
  .record(z.string().min(1).max(64), z.unknown())
  .refine((v) => Object.keys(v).length <= 200, 'at most 200 fields at once')
  .meta({ maxProperties: 200 })
  .describe('many2one: id; many2many: ids; one2many: [[0,0,{...}]]; user-time-zone datetimes.');

const idsArg = z.array(z.number().int().min(1).max(2_147_483_647)).min(1).max(100).describe('Ids (1-100).');

const show = (value: unknown) => {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
};

/** The fields a write sets, one per line, as the user is shown them before it goes (at most 10). */
const fieldLines = (values: Record<string, unknown>) => {
  const entries = Object.entries(values);
  const lines = entries.slice(0, 10).map(([k, v]) => `${k}: ${show(v)}`);
  return entries.length > 10 ? [...lines, `… and ${entries.length - 10} more fields`] : lines;
};

/** Which records, by name, for the question before an update or a delete. */
const recordList = (model: string, names: string[]) =>
  `${names.length} ${model} record${names.length === 1 ? '' : 's'}: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}`;

const NOT_WRITABLE = new Set([
  'id',
  'display_name',
  'create_uid',
  'create_date',
  'write_uid',
  'write_date',
  '__last_update',
]);

/** Check values against `fields_get` and convert them to what Odoo expects (datetimes to UTC). */
export function checkValues(model: string, values: Record<string, unknown>, fields: FieldMap, tz: string) {
  const entries = Object.entries(values);
  if (entries.length === 0) throw new UserInputError('values is empty: give at least one field to set');
  const out: Record<string, unknown> = {};
  for (const [name, value] of entries) {
    const field = fields[name];
    if (NOT_WRITABLE.has(name))
      throw new UserInputError(`${model}.${name} is set by Odoo and cannot be written`);
    if (!field) throw unknownField(model, name, fields, 'In values, ');
    if (field.readonly) {
      throw new UserInputError(`${model}.${name} (${field.string}) is read-only, so it cannot be written`);
    }
    const wrong = (expected: string) =>
      new UserInputError(`${model}.${name} is a ${field.type} field; ${show(value)} is not ${expected}`);
    if (value === false || value === null) {
      if (field.required)
        throw new UserInputError(`${model}.${name} (${field.string}) is required and cannot be emptied`);
      out[name] = false;
      continue;
    }
    switch (field.type) {
      case 'char':
      case 'text':
      case 'html':
        if (typeof value !== 'string') throw wrong('text');
        out[name] = value;
        break;
      case 'integer':
        if (!Number.isInteger(value)) throw wrong('a whole number');
        out[name] = value;
        break;
      case 'float':
      case 'monetary':
        if (typeof value !== 'number' || !Number.isFinite(value)) throw wrong('a number');
        out[name] = value;
        break;
      case 'boolean':
        if (typeof value !== 'boolean') throw wrong('true or false');
        out[name] = value;
        break;
      case 'date':
        if (typeof value !== 'string') throw wrong('a date like 2025-06-12');
        out[name] = parseDate(value, `value of ${name}`);
        break;
      case 'datetime':
        if (typeof value !== 'string') throw wrong('a date-time like 2025-06-12 14:30');
        out[name] = localToUtc(/^\d{4}-\d{2}-\d{2}$/.test(value.trim()) ? `${value} 00:00` : value, tz);
        break;
      case 'selection': {
        const keys = (field.selection ?? []).map(([k]) => k);
        if (typeof value !== 'string' || (keys.length > 0 && !keys.includes(value))) {
          throw new UserInputError(
            `${model}.${name} takes one of ${keys.join(', ')}; ${show(value)} is not one of them`,
          );
        }
        out[name] = value;
        break;
      }
      case 'many2one':
        if (!Number.isInteger(value) || (value as number) < 1)
          throw wrong(`the id of a ${field.relation} record`);
        out[name] = value;
        break;
      case 'many2many':
      case 'one2many': {
        if (!Array.isArray(value)) throw wrong('a list');
        if (value.every((v) => Number.isInteger(v) && v > 0)) {
          out[name] = [[6, 0, value]];
        } else if (value.every((v) => Array.isArray(v) && Number.isInteger(v[0]) && v[0] >= 0 && v[0] <= 6)) {
          out[name] = value;
        } else {
          throw wrong(`a list of ${field.relation} ids or of Odoo commands like [0, 0, {...}]`);
        }
        break;
      }
      default:
        out[name] = value;
    }
  }
  return out;
}

async function displayNames(client: OdooClient, model: string, ids: number[], signal?: AbortSignal) {
  const rows = await client.call<Array<{ id: number; display_name: string | false }>>(
    model,
    'read',
    { ids, fields: ['display_name'] },
    { signal },
  );
  const missing = ids.filter((id) => !rows.some((r) => r.id === id));
  if (missing.length > 0) {
    throw new UserInputError(`${model} has no record with id ${missing.join(', ')}; nothing was changed`, {
      hint: 'Use odoo_search_records to find the ids that exist',
    });
  }
  return rows.map((r) => `${r.display_name || model} #${r.id}`);
}

const plural = (n: number, word: string) => `${n} ${word} record${n === 1 ? '' : 's'}`;

export function writeTools({ client }: OdooDeps) {
  return [
    defineTool({
      name: 'odoo_create_record',
      title: 'Create an Odoo record',
      description:
        "Creates one record; values are checked against the model's fields before sending. Returns the id. Changes data.",
      toolset: 'write',
      input: { model: modelArg, values: valuesArg },
      // Both absent when the user declined (nothing was created).
      output: { id: z.number().optional(), name: z.string().optional() },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
      confirm: ({ model, values }) => ({
        message: [`Create a ${model} record in Odoo with:`, ...fieldLines(values)].join('\n'),
        declined: { text: `Not created: the user declined. No ${model} record was made.`, data: {} },
      }),
      handler: async ({ model, values }, { signal }) => {
        const session = await client.session(signal);
        const fields = await client.fields(checkModel(model), signal);
        const vals = checkValues(model, values, fields, session.tz);
        const created = await client.call<number | number[]>(
          model,
          'create',
          { vals_list: [vals] },
          { signal, write: true },
        );
        const id = Array.isArray(created) ? created[0]! : created;
        const [name] = await displayNames(client, model, [id], signal);
        return { text: `Created ${model} ${untrusted(name, 120)}.`, data: { id, name: name! } };
      },
    }),

    defineTool({
      name: 'odoo_update_record',
      title: 'Update Odoo records',
      description: 'Sets field values on records, checked first. Overwrites previous values. Changes data.',
      toolset: 'write',
      input: { model: modelArg, ids: idsArg, values: valuesArg },
      output: { ids: z.array(z.number()), fields: z.array(z.string()) },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
      confirm: async ({ model, ids, values }, { signal }) => ({
        message: [
          `Overwrite in Odoo, on ${recordList(model, await displayNames(client, checkModel(model), ids, signal))}:`,
          ...fieldLines(values),
        ].join('\n'),
        declined: {
          text: `Not updated: the user declined. No ${model} record was changed.`,
          data: { ids: [], fields: [] },
        },
      }),
      handler: async ({ model, ids, values }, { signal }) => {
        const session = await client.session(signal);
        const fields = await client.fields(checkModel(model), signal);
        const vals = checkValues(model, values, fields, session.tz);
        const names = await displayNames(client, model, ids, signal);
        await client.call(model, 'write', { ids, vals }, { signal, write: true });
        const set = Object.keys(vals);
        return {
          text: `Updated ${plural(ids.length, model)}: ${names.map((n) => untrusted(n, 120)).join(', ')} (set ${set.join(', ')}).`,
          data: { ids, fields: set },
        };
      },
    }),

    defineTool({
      name: 'odoo_delete_record',
      title: 'Delete Odoo records',
      description:
        'Deletes records for good; Odoo refuses if others depend on them. Archiving (active=false) is gentler. Destructive.',
      toolset: 'write',
      input: { model: modelArg, ids: idsArg },
      output: { ids: z.array(z.number()) },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
      confirm: async ({ model, ids }, { signal }) => ({
        message: `Delete for good, in Odoo, ${recordList(model, await displayNames(client, checkModel(model), ids, signal))}?`,
        declined: {
          text: `Not deleted: the user declined. No ${model} record was removed.`,
          data: { ids: [] },
        },
      }),
      handler: async ({ model, ids }, { signal }) => {
        await client.session(signal);
        await client.fields(checkModel(model), signal);
        const names = await displayNames(client, model, ids, signal);
        await client.call(model, 'unlink', { ids }, { signal, write: true });
        return {
          text: `Deleted ${plural(ids.length, model)}: ${names.map((n) => untrusted(n, 120)).join(', ')}.`,
          data: { ids },
        };
      },
    }),
  ];
}
