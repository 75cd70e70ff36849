import { fieldFiles } from '../attachments.js';
import { findModels } from '../models.js';
import {
  NotFoundError,
  defineTool,
  cursorArg,
  positionOffset,
  requiredArg,
  fenceUntrusted,
  formatTable,
  cutCellsData,
  cutCellsOutput,
  untrusted,
  z,
} from '@switchyard/core';
import { validateDomain } from '../domain.js';
import { binarySize, checkFieldNames, isTechnical, shapeRows, usefulFields } from '../fields.js';
import { AGGREGATES, GRANULARITIES } from '../group.js';
import { GROUP_CAP, aggregateRecords } from '../queries/aggregate.js';
import { searchRecords } from '../queries/records.js';
import type { FieldInfo, FieldMap } from '../odoo-client.js';
import {
  MAX_LIMIT,
  checkModel,
  domainArg,
  fieldsArg,
  limitArg,
  modelArg,
  tableOutput,
  tableReply,
  type OdooDeps,
} from './common.js';

const READ = { readOnlyHint: true } as const;

const MAX_MODELS = 200;

/** A field's description row: selection values as "key=Label; ...". */
export function describeFields(fields: FieldMap, options: { all?: boolean; search?: string | undefined }) {
  const needle = options.search?.toLowerCase();
  const all = Object.entries(fields).sort(([a], [b]) => a.localeCompare(b));
  const picked = all.filter(([name, f]) => {
    if (needle) return name.toLowerCase().includes(needle) || f.string.toLowerCase().includes(needle);
    return options.all || (!isTechnical(name) && f.type !== 'binary');
  });
  const rows = picked.map(([name, f]) => [
    name,
    f.string,
    f.type,
    f.relation ?? null,
    f.required === true,
    f.readonly === true,
    f.store !== false,
    selectionText(f),
  ]);
  return { rows, total: all.length, shown: picked.length };
}

function selectionText(f: FieldInfo): string | null {
  if (!f.selection || f.selection.length === 0) return null;
  const text = f.selection.map(([k, label]) => (k === label ? k : `${k}=${label}`)).join('; ');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

export const FIELD_COLUMNS = [
  'field',
  'label',
  'type',
  'relation',
  'required',
  'readonly',
  'stored',
  'values',
];

export function recordsTools({ client }: OdooDeps) {
  return [
    defineTool({
      name: 'odoo_list_models',
      title: 'Find Odoo models',
      description:
        'Finds models by business word, label, technical name or menu ("invoice" or "vendor bill" finds account.move, "customer" res.partner, "quotation" sale.order). One call.',
      toolset: 'records',
      input: {
        query: z.string().max(100).optional().describe('A business word, label or name; omit for all.'),
        limit: z.number().int().min(1).max(MAX_MODELS).default(50).describe('Max models (default 50).'),
      },
      annotations: READ,
      handler: async ({ query, limit }, { signal }) => {
        await client.session(signal);
        const q = query?.trim();
        const { hits, total } = await findModels(client, q, limit, signal);
        const rows = hits.map((h) => [h.model, h.label, h.matched]);
        return tableReply({
          title: q ? `Models matching '${q}'` : 'Models',
          columns: ['model', 'label', 'matched'],
          textRows: rows,
          total,
          offset: 0,
          fence: false,
          unpaged: { limit, maxLimit: MAX_MODELS, narrow: 'use a more specific query' },
        });
      },
    }),

    defineTool({
      name: 'odoo_describe_model',
      title: 'Describe an Odoo model',
      description:
        "A model's fields: label, type, relation, required, readonly, stored, selection values (technical ones with all=true). Use before filtering, grouping or writing. One call.",
      toolset: 'records',
      input: {
        model: modelArg,
        search: z.string().max(64).optional().describe('Only fields whose name or label contains this.'),
        all: z.boolean().default(false).describe('Include technical fields.'),
      },
      annotations: READ,
      handler: async ({ model, search, all }, { signal }) => {
        const fields = await client.fields(checkModel(model), signal);
        const { rows, total, shown } = describeFields(fields, { all, search });
        const table = formatTable(FIELD_COLUMNS, rows, { maxRows: rows.length, maxBytes: 64 * 1024 });
        const scope = search
          ? ` matching '${search}'`
          : all
            ? ''
            : ' (technical ones hidden; all=true shows them)';
        return {
          text: `${model}: ${shown} of ${total} fields${scope}.\n${fenceUntrusted(table.text, 'Odoo fields')}`,
          data: {
            columns: FIELD_COLUMNS,
            rows: rows.slice(0, table.returnedRows),
            total,
            truncated: table.returnedRows < total,
          },
        };
      },
    }),

    defineTool({
      name: 'odoo_search_records',
      title: 'Search Odoo records',
      description:
        'Records of any model matching a domain, as CSV with the total; many2one as "name #id". For orders, employees, stock and invoices prefer the business tools; for totals odoo_aggregate_records. Two calls.',
      toolset: 'records',
      input: {
        // Optional only because a next_cursor alone carries it.
        model: modelArg.optional(),
        domain: domainArg,
        fields: fieldsArg,
        limit: limitArg,
        order: z.string().max(200).optional().describe('e.g. "date_order desc, id".'),
        cursor: cursorArg,
      },
      output: tableOutput,
      annotations: READ,
      handler: async (args, { signal, nextCursor }) => {
        const model = requiredArg(args.model, 'model');
        const offset = positionOffset(args.cursor);
        const found = await searchRecords(client, { ...args, model, offset }, signal);
        return tableReply({ ...found, title: model, offset, nextCursor });
      },
    }),

    defineTool({
      name: 'odoo_get_record',
      title: 'Read one Odoo record',
      description:
        'One record by id, as field,value lines (default: its useful fields; many2one as "name #id"). One call.',
      toolset: 'records',
      input: {
        model: modelArg,
        id: z.number().int().min(1).max(2_147_483_647).describe('The record id.'),
        fields: fieldsArg,
      },
      output: {
        id: z.number(),
        fields: z.number().describe('Fields in the text.'),
        truncated: z.boolean(),
        ...cutCellsOutput,
      },
      annotations: READ,
      handler: async ({ model, id, fields }, { signal }) => {
        const session = await client.session(signal);
        const meta = await client.fields(checkModel(model), signal);
        const names = fields ? checkFieldNames(model, fields, meta) : usefulFields(meta);
        const [row] = await client.call<Array<Record<string, unknown>>>(
          model,
          'read',
          { ids: [id], fields: names },
          { signal },
        );
        if (!row) {
          throw new NotFoundError(
            `${model} has no record with id ${id} (it does not exist, was deleted, or is archived out of reach)`,
            {
              hint: 'Use odoo_search_records to find the ids that exist',
            },
          );
        }
        // A binary field asked for by name: its type and the attachment that holds it, never its bytes.
        const binaries = names.filter((n) => meta[n]?.type === 'binary' && row[n]);
        const files = await fieldFiles(client, model, id, binaries, signal);
        const notes: Record<string, string> = {};
        for (const [field, file] of files) {
          notes[field] =
            `(${file.mimetype ?? 'file'}, ${binarySize(row[field])}; attachment #${file.attachment}, odoo_save_attachment saves it)`;
        }
        return recordReply(model, id, names, row, meta, session.tz, notes);
      },
    }),

    defineTool({
      name: 'odoo_count_records',
      title: 'Count Odoo records',
      description: 'Counts the records matching a domain. One call.',
      toolset: 'records',
      input: { model: modelArg, domain: domainArg },
      output: { count: z.number() },
      annotations: READ,
      handler: async ({ model, domain }, { signal }) => {
        const session = await client.session(signal);
        await client.fields(checkModel(model), signal);
        const checked = await validateDomain(client, model, domain, {
          tz: session.tz,
          major: session.version.major,
          signal,
        });
        const count = await client.call<number>(model, 'search_count', { domain: checked }, { signal });
        return { text: `${count} ${model} record${count === 1 ? '' : 's'} match.`, data: { count } };
      },
    }),

    defineTool({
      name: 'odoo_aggregate_records',
      title: 'Aggregate Odoo records',
      description:
        'Grouped sum/avg/min/max/count computed by Odoo, e.g. sales by month and salesperson: group_by ["date_order:month","user_id"], aggregates ["amount_total:sum"]. User time zone. Cheaper than reading records. One call.',
      toolset: 'records',
      input: {
        model: modelArg,
        domain: domainArg,
        group_by: z
          .array(z.string().max(80))
          .max(3)
          .default([])
          .describe(`Fields; dates take ":${GRANULARITIES.join('|')}" (default month). Empty: one total.`),
        aggregates: z
          .array(z.string().max(80))
          .max(8)
          .default([])
          .describe(`"field:${AGGREGATES.join('|')}"; a count is always included.`),
        order: z
          .string()
          .max(100)
          .optional()
          .describe('A group_by or aggregate, e.g. "amount_total:sum desc".'),
        limit: z.number().int().min(1).max(MAX_LIMIT).default(100).describe('Max groups.'),
      },
      output: tableOutput,
      annotations: READ,
      handler: async (args, { signal }) => {
        const found = await aggregateRecords(client, args, signal);
        const { groups, textRows, total } = found;
        return tableReply({
          title: `${args.model} grouped${groups.length ? ` by ${groups.map((g) => g.spec).join(', ')}` : ''}`,
          columns: found.columns,
          textRows,
          total,
          offset: 0,
          unpaged: {
            limit: args.limit,
            maxLimit: MAX_LIMIT,
            narrow: 'narrow the domain or group by fewer fields',
          },
          tz: found.tz,
          footer:
            total >= GROUP_CAP
              ? `Only the first ${GROUP_CAP} groups were read; narrow the domain.`
              : undefined,
        });
      },
    }),
  ];
}

/** One record as "field,value" lines, fenced; the structure says which record and whether it was cut. */
export function recordReply(
  model: string,
  id: number,
  names: string[],
  row: Record<string, unknown>,
  meta: FieldMap,
  tz: string,
  /** Field → the text shown instead of its value (binary fields: type, size, attachment). */
  notes: Record<string, string> = {},
) {
  const shaped = shapeRows([row], names, meta, tz);
  const lines = names.map((n, i) => [n, notes[n] ?? shaped.text[0]![i]]);
  const table = formatTable(['field', 'value'], lines, {
    maxRows: lines.length,
    maxBytes: 48 * 1024,
    maxCellChars: 2000,
  });
  const name =
    typeof row.display_name === 'string' ? row.display_name : typeof row.name === 'string' ? row.name : '';
  return {
    text: `${model} #${id}${name ? ` ${untrusted(name, 120)}` : ''}. Datetimes in ${tz}.${cutNote(table)}\n${fenceUntrusted(table.text, 'Odoo data')}`,
    data: { id, fields: table.returnedRows, truncated: table.truncated, ...cutCellsData(table) },
  };
}

/** What was cut of a record's values, and how large the largest was. */
function cutNote(table: {
  cutCells: number;
  longestCell: number;
  returnedRows: number;
  truncated: boolean;
}): string {
  if (!table.truncated) return '';
  const n = (x: number) => x.toLocaleString('en-US');
  return table.cutCells
    ? ` Truncated: ${n(table.cutCells)} value${table.cutCells === 1 ? '' : 's'} cut at 2,000 characters (the longest is ${n(table.longestCell)} in full); ask for fewer fields or read the record in Odoo for the rest.`
    : ` Truncated: ${n(table.returnedRows)} fields shown; ask for fewer fields for the rest.`;
}
