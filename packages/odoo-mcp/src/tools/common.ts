import {
  type LocalFiles,
  UserInputError,
  cutCellsData,
  cutCellsOutput,
  fenceUntrusted,
  formatTable,
  listFooter,
  z,
  type Resumable,
} from '@switchyard/core';
import type { OdooClient } from '../odoo-client.js';

/** What every tool works with. */
export interface OdooDeps {
  client: OdooClient;
  /** Where files may be saved (core's allowed-folders policy). */
  files: LocalFiles;
}

export const MAX_LIMIT = 500;

export const modelArg = z.string().max(128).describe('e.g. sale.order (odoo_list_models).');

const MODEL = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/;

/** A technical model name, checked before any call. */
export function checkModel(model: string): string {
  if (!MODEL.test(model)) {
    throw new UserInputError(`'${model}' is not a technical model name like sale.order`, {
      hint: 'Call odoo_list_models to find it',
    });
  }
  return model;
}

export const domainArg = z
  .array(z.unknown())
  .max(100)
  .default([])
  .describe(
    'Prefix notation: ["|",["state","=","sale"],["partner_id.country_id.code","=","BE"]]; user-time-zone datetimes.',
  );

export const fieldsArg = z
  .array(z.string().max(64))
  .max(60)
  .optional()
  .describe('Default: a short useful set.');

export const limitArg = z.number().int().min(1).max(MAX_LIMIT).default(20).describe('Max rows.');

/**
 * Output of every tabular tool: what came and whether more exist. The rows travel once, as the CSV of the text, and
 * so does the next_cursor (it closes the count line, as in every server: it is as long as the query it carries).
 */
export const tableOutput = {
  returned: z.number().describe('Rows in the text.'),
  total: z.number(),
  truncated: z.boolean(),
  ...cutCellsOutput,
};

export interface TableData {
  returned: number;
  total: number;
  truncated: boolean;
  cut_cells?: number;
  longest_cell_chars?: number;
}

/**
 * For a tool without `cursor`: the rest comes from a larger limit or a narrower question, never from a
 * next page, so the reply says that and has no `next_cursor`.
 */
export interface Unpaged {
  limit: number;
  maxLimit: number;
  /** How to ask for fewer rows, e.g. "narrow the domain". */
  narrow: string;
}

/**
 * Rows as CSV (fenced: record values are typed by people) under a line that says what they are, how
 * many there are, and how to get the rest (a next_cursor, or a larger limit); the structure carries the counts.
 */
export function tableReply<E extends Record<string, unknown> = Record<string, never>>(options: {
  title: string;
  columns: string[];
  textRows: unknown[][];
  total: number;
  /** The row this page starts at (core's `positionOffset`). */
  offset: number;
  /** The tool's `ctx.nextCursor` (a tool with a `cursor` argument has one). */
  nextCursor?: Resumable['nextCursor'] | undefined;
  tz?: string | undefined;
  extra?: E;
  footer?: string | undefined;
  fence?: boolean;
  /** Set by tools that take no `cursor`. */
  unpaged?: Unpaged;
}): { text: string; data: TableData & E } {
  const table = formatTable(options.columns, options.textRows, {
    maxRows: options.textRows.length,
    maxBytes: 48 * 1024,
  });
  const returned = table.returnedRows;
  const more = options.offset + returned < options.total;
  const nextCursor =
    more && !options.unpaged ? options.nextCursor?.(String(options.offset + returned)) : undefined;
  const truncated = more || table.cutCells > 0;
  const count = listFooter({
    shown: returned,
    total: options.total,
    noun: 'row',
    scope: options.offset ? `from row ${(options.offset + 1).toLocaleString('en-US')}` : undefined,
    truncated,
    cursor: nextCursor,
    hint: options.unpaged ? unpagedHint(options.unpaged, returned < options.textRows.length) : undefined,
    cutCells: table.cutCells,
    longestCell: table.longestCell,
    note: options.tz ? `Datetimes in ${options.tz}.` : undefined,
  });
  const body =
    returned === 0
      ? 'No rows match.'
      : options.fence === false
        ? table.text
        : fenceUntrusted(table.text, 'Odoo data');
  const text = [`${options.title}: ${count}`, body, options.footer].filter(Boolean).join('\n');
  return {
    text,
    data: {
      ...(options.extra as E),
      returned,
      total: options.total,
      truncated,
      ...cutCellsData(table),
    },
  };
}

/** A larger limit helps only while below the maximum and when the rows were not cut for size. */
function unpagedHint(unpaged: Unpaged, cutForSize: boolean): string {
  return cutForSize || unpaged.limit >= unpaged.maxLimit
    ? `${unpaged.narrow} for the rest`
    : `raise limit (up to ${unpaged.maxLimit}), or ${unpaged.narrow}, for the rest`;
}
