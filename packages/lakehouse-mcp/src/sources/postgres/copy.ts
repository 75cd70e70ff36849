/**
 * Reading a PostgreSQL source out with `COPY (SELECT ...) TO STDOUT (FORMAT csv)` inside the caller's
 * `REPEATABLE READ, READ ONLY` transaction: into a warehouse's feed, or cut into part files on disk so memory stays
 * flat however large the table is; incremental reads filtered by the cursor and the previous run's snapshot.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Client } from 'pg';
import { CancelledError } from '@switchyard/core';
import type { CsvFeed } from '../../warehouse/types.js';
import type { SourceShape } from './catalog.js';
import { cancelBackend } from './connection.js';

/** Incremental reads: the cursor, the stored watermark and, for tables, the snapshot that read it. */
export interface CursorFilter {
  column: string;
  pgType: string;
  watermark: string;
  /** `pg_current_snapshot()` of the run that found the watermark (tables on PostgreSQL 13 and later). */
  snapshot?: string | null | undefined;
}

interface CopyOptions {
  signal: AbortSignal;
  /** Incremental: only rows changed since the watermark (see {@link changedSince}). */
  cursor?: CursorFilter | undefined;
}

export interface StreamOptions extends CopyOptions {
  partBytes: number;
  dir: string;
  /** Load one finished part; runs while the next part is being read. */
  onPart(path: string): Promise<void>;
}

/**
 * Which rows an incremental run reads. With the previous run's snapshot (tables only): rows past the watermark,
 * and rows at the watermark that the previous snapshot did not see. Without it (views, queries, older servers):
 * every row at or past the watermark, so the rows at the watermark are read again.
 *
 * Why nothing is lost and nothing read twice: call W the largest cursor value the previous run read, in snapshot
 * S. Every row version at W that S saw was read then (it passed that run's filter, since W was at or past that
 * run's own watermark; by induction for a run that read nothing new). A row version written later — a row
 * updated again, or a transaction that commits after S with the same cursor value, as a bulk UPDATE's now() or
 * a late commit does — has an xmin S does not see, so it is read now. Rows past W are read as before. (As with
 * any cursor column, a row committed after S with a value below W is not seen; use a full sync to catch those.)
 * xmin is 32 bits and the snapshot 64: the xmin is placed in the epoch just below this snapshot's xmax, which is
 * exact while a row version is younger than 2^32 transactions (PostgreSQL freezes long before).
 */
function changedSince(client: Client, cursor: CursorFilter, table: boolean): string {
  const column = client.escapeIdentifier(cursor.column);
  const watermark = `current_setting('lakehouse.watermark')::${cursor.pgType}`;
  if (!cursor.snapshot || !table) return ` WHERE ${column} >= ${watermark}`;
  const xmax = `pg_snapshot_xmax(pg_current_snapshot())::text::numeric`;
  const xmin8 = `(${xmax} - mod(mod(${xmax}, 4294967296) - xmin::text::numeric + 4294967296, 4294967296))::text::xid8`;
  // xids below 3 are PostgreSQL's own (bootstrap, frozen): always seen.
  const seen = `(xmin::text::bigint < 3 OR pg_visible_in_snapshot(${xmin8}, current_setting('lakehouse.snapshot')::pg_snapshot))`;
  return ` WHERE ${column} > ${watermark} OR (${column} = ${watermark} AND NOT ${seen})`;
}

/** This transaction's snapshot, for the next incremental run; null before PostgreSQL 13 (no pg_snapshot). */
export async function currentSnapshot(client: Client): Promise<string | null> {
  const version = await client.query<{ v: number }>("SELECT current_setting('server_version_num')::int AS v");
  if (version.rows[0]!.v < 130000) return null;
  return (await client.query<{ s: string }>('SELECT pg_current_snapshot()::text AS s')).rows[0]!.s;
}

/**
 * Run `COPY (SELECT …) TO STDOUT (FORMAT csv)` and hand each chunk over with the offset just past its last
 * complete row; returns the bytes read. Cancelling stops the statement on the server.
 */
async function copyOut(
  client: Client,
  shape: SourceShape,
  options: CopyOptions,
  onChunk: (chunk: Buffer, rowEnd: number) => Promise<void>,
): Promise<number> {
  // Bundled, a CommonJS package imported on use offers its exports as `default` only.
  const copyStreams = (await import('pg-copy-streams')) as typeof import('pg-copy-streams') & {
    default?: typeof import('pg-copy-streams');
  };
  const copyTo = (copyStreams.default ?? copyStreams).to;
  let whereClause = '';
  if (options.cursor) {
    await client.query("SELECT set_config('lakehouse.watermark', $1, true)", [options.cursor.watermark]);
    if (options.cursor.snapshot)
      await client.query("SELECT set_config('lakehouse.snapshot', $1, true)", [options.cursor.snapshot]);
    whereClause = changedSince(client, options.cursor, shape.table);
  }
  const select = shape.columns.map((c) => c.select).join(', ');
  const copy = client.query(
    copyTo(`COPY (SELECT ${select} FROM ${shape.from}${whereClause}) TO STDOUT WITH (FORMAT csv)`),
  );
  let stopping: Promise<void> | undefined;
  const abort = () => {
    // The statement is cancelled on the server (it may be computing, not writing), and the socket closed.
    stopping = cancelBackend(client).catch(() => {});
    copy.destroy(new CancelledError());
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };
  options.signal.addEventListener('abort', abort, { once: true });
  let bytes = 0;
  let inQuote = false;
  try {
    for await (const chunk of copy as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      // COPY's chunks do not follow rows: a part may only end after a newline outside quotes.
      const scanned = scanCsv(chunk, inQuote);
      inQuote = scanned.inQuote;
      await onChunk(chunk, scanned.lastRowEnd);
    }
    return bytes;
  } catch (err) {
    await stopping;
    if (options.signal.aborted) throw new CancelledError();
    throw err;
  } finally {
    options.signal.removeEventListener('abort', abort);
  }
}

/**
 * Stream the source into a warehouse's feed, which loads while the source is read (no part files); returns the
 * bytes read. Runs inside the caller's transaction.
 */
export async function streamToFeed(
  client: Client,
  shape: SourceShape,
  feed: CsvFeed,
  options: CopyOptions,
): Promise<number> {
  try {
    const bytes = await copyOut(client, shape, options, (chunk, rowEnd) => feed.write(chunk, rowEnd));
    await feed.end();
    return bytes;
  } catch (err) {
    feed.destroy(err as Error);
    if (options.signal.aborted) throw new CancelledError();
    throw err;
  }
}

/** Stream the source into CSV part files; returns the bytes read. Runs inside the caller's transaction. */
export async function streamParts(
  client: Client,
  shape: SourceShape,
  options: StreamOptions,
): Promise<number> {
  let part = 0;
  let out: WriteStream | undefined;
  let outBytes = 0;
  let outPath = '';
  let loading: Promise<void> = Promise.resolve();
  const finishPart = async () => {
    if (!out) return;
    const stream = out;
    out = undefined;
    outBytes = 0;
    stream.end();
    await once(stream, 'close');
    const path = outPath;
    await loading;
    loading = options.onPart(path);
    loading.catch(() => {});
  };
  const write = async (data: Buffer) => {
    if (data.length === 0) return;
    if (!out) {
      outPath = join(options.dir, `part-${String(part++).padStart(5, '0')}.csv`);
      out = createWriteStream(outPath);
      outBytes = 0;
    }
    outBytes += data.length;
    if (!out.write(data)) await once(out, 'drain');
  };
  try {
    const bytes = await copyOut(client, shape, options, async (chunk, rowEnd) => {
      if (outBytes + chunk.length >= options.partBytes && rowEnd > 0) {
        await write(chunk.subarray(0, rowEnd));
        await finishPart();
        await write(chunk.subarray(rowEnd));
      } else await write(chunk);
    });
    await finishPart();
    await loading;
    return bytes;
  } catch (err) {
    out?.destroy();
    await loading.catch(() => {});
    throw err;
  }
}

/** Quote state after a CSV chunk, and the offset just past its last newline outside quotes (-1: none). */
export function scanCsv(chunk: Buffer, inQuote: boolean): { inQuote: boolean; lastRowEnd: number } {
  let pos = 0;
  let last = -1;
  let quoted = inQuote;
  for (;;) {
    const quote = chunk.indexOf(0x22, pos);
    if (!quoted) {
      const end = quote === -1 ? chunk.length : quote;
      if (end > pos) {
        const newline = chunk.lastIndexOf(0x0a, end - 1);
        if (newline >= pos) last = newline + 1;
      }
    }
    if (quote === -1) break;
    quoted = !quoted;
    pos = quote + 1;
  }
  return { inQuote: quoted, lastRowEnd: last };
}
