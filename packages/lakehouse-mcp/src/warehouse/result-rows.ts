/**
 * Reading a query's rows within bounds, once for every engine: the rows shown (up to a count and a number of
 * JSON bytes, the first row always, so a wide row still shows), and with a spill folder every row (up to a
 * limit and core's spill size cap) to a CSV file as well. Each engine supplies its rows as an async iterable.
 */
import { spillCsv, UserInputError } from '@switchyard/core';
import type { QueryOptions, QueryResult } from './types.js';

/** The rows kept to show: a row is taken while the count and byte bounds hold; after the first refusal, none. */
class ShownRows {
  readonly rows: unknown[][] = [];
  private bytes = 0;
  truncated = false;

  constructor(
    private readonly maxRows: number,
    private readonly maxBytes: number,
  ) {}

  take(row: unknown[]): boolean {
    if (this.truncated) return false;
    const size = Buffer.byteLength(JSON.stringify(row));
    if (this.rows.length >= this.maxRows || (this.bytes + size > this.maxBytes && this.rows.length > 0)) {
      this.truncated = true;
      return false;
    }
    this.rows.push(row);
    this.bytes += size;
    return true;
  }
}

/** Rows up to `maxRows` and `maxBytes` of JSON; reading stops at the first row that does not fit. */
export async function readShown(
  rows: AsyncIterable<unknown[]>,
  maxRows: number,
  maxBytes: number,
): Promise<{ rows: unknown[][]; truncated: boolean }> {
  const shown = new ShownRows(maxRows, maxBytes);
  for await (const row of rows) if (!shown.take(row)) break;
  return { rows: shown.rows, truncated: shown.truncated };
}

/**
 * Every row (up to `spillMaxRows` and core's spill size cap) to a CSV file in `spillDir`, and the first ones
 * to show. `columns` is asked after the first row is read (an engine may learn its columns with it).
 * `limited` says the row limit stopped the spill (the engine may stop the statement).
 */
export async function spillRows(
  rows: AsyncIterable<unknown[]>,
  columns: () => string[],
  options: Pick<QueryOptions, 'maxRows' | 'maxBytes' | 'spillDir' | 'spillMaxRows'>,
  name: string,
): Promise<{
  rows: unknown[][];
  truncated: boolean;
  spill: NonNullable<QueryResult['spill']>;
  limited: boolean;
}> {
  const shown = new ShownRows(options.maxRows, options.maxBytes);
  const limit = options.spillMaxRows ?? 1_000_000;
  let limited = false;
  const iterator = rows[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* capped(): AsyncGenerator<unknown[]> {
    let n = 0;
    try {
      for (let next = first; !next.done; next = await iterator.next()) {
        if (n >= limit) {
          limited = true;
          return;
        }
        n++;
        shown.take(next.value);
        yield next.value;
      }
    } finally {
      // Cut short (the limit, or core's size cap): the engine's rows are let go.
      await iterator.return?.();
    }
  }
  const spill = await spillCsv({
    columns: columns(),
    rows: capped() as AsyncIterable<never>,
    dir: options.spillDir!,
    name,
  });
  return {
    rows: shown.rows,
    truncated: shown.truncated,
    spill: { ...spill, complete: !limited && spill.complete },
    limited,
  };
}

/** A query stopped at its time limit, on any engine. */
export function queryTimeout(timeoutMs: number): UserInputError {
  return new UserInputError(`The query was stopped after the time limit of ${timeoutMs / 1000} s`, {
    hint: 'Add filters or a LIMIT, aggregate before returning rows, or raise timeout_seconds (at most 300)',
  });
}
