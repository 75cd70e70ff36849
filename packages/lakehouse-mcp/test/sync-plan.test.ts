// What a sync decides before and after it sees the source's shape (src/sync.ts): pure, no database.
import { describe, expect, it } from 'vitest';
import { checkCursorKnown, planRead, planSync, type SyncRequest } from '../src/sync.js';
import type { SourceShape } from '../src/sources/postgres/catalog.js';
import type { SyncState } from '../src/warehouse/types.js';

const request = (over: Partial<SyncRequest> = {}): SyncRequest => ({
  connection: 'shop',
  sync_mode: 'full',
  ...over,
});

const shape: SourceShape = {
  label: 'public.orders',
  from: '"public"."orders"',
  table: true,
  estimatedRows: 10,
  primaryKey: ['Order Id'],
  columns: [
    {
      name: 'Order Id',
      select: '"Order Id"',
      pgType: 'int8',
      type: { kind: 'int64' },
      encoding: 'plain',
      nullable: false,
    },
    {
      name: 'UpdatedAt',
      select: '"UpdatedAt"',
      pgType: 'timestamptz',
      type: { kind: 'timestamptz' },
      encoding: 'plain',
      nullable: false,
    },
    {
      name: 'amount',
      select: '"amount"',
      pgType: 'numeric',
      type: { kind: 'decimal', precision: 12, scale: 2 },
      encoding: 'plain',
      nullable: true,
    },
  ],
};

const state = (over: Partial<SyncState> = {}): SyncState => ({
  target: 'bronze.orders',
  connection: 'shop',
  source: 'public.orders',
  cursorColumn: 'updated_at',
  keyColumns: ['order_id'],
  watermark: '2026-01-01 00:00:00+00',
  sourceSnapshot: '100:100:',
  ...over,
});

describe('planSync', () => {
  it('names the source and the bronze target from a table, with public as the default schema', () => {
    expect(planSync(request({ table: 'orders' }))).toMatchObject({
      source: { schema: 'public', table: 'orders' },
      sourceLabel: 'public.orders',
      target: { layer: 'bronze', name: 'orders' },
      targetLabel: 'bronze.orders',
      incremental: false,
    });
    expect(planSync(request({ table: 'sales.Gift Cards' })).target.name).toBe('gift_cards');
  });

  it('needs exactly one of table and source_query, and a target for a query', () => {
    expect(() => planSync(request())).toThrow(/either table or source_query/);
    expect(() => planSync(request({ table: 'a', source_query: 'SELECT 1' }))).toThrow(/not both/);
    expect(() => planSync(request({ source_query: 'SELECT 1' }))).toThrow(/needs target_table/);
    expect(() => planSync(request({ source_query: 'DELETE FROM a', target_table: 'x' }))).toThrow(
      /single SELECT/,
    );
    expect(() => planSync(request({ table: 'a.b.c' }))).toThrow(/not a table name/);
    expect(planSync(request({ source_query: 'SELECT 1;', target_table: 'one' })).source).toEqual({
      query: 'SELECT 1',
    });
  });

  it('remembers the cursor of an incremental sync, and asks for one the first time', () => {
    const first = planSync(request({ table: 'orders', sync_mode: 'incremental' }));
    expect(() => checkCursorKnown(first)).toThrow(/needs cursor_column the first time/);
    const later = planSync(request({ table: 'orders', sync_mode: 'incremental' }), state());
    expect(later.cursorColumn).toBe('updated_at');
    expect(() => checkCursorKnown(later)).not.toThrow();
    // A full sync does not pick up a remembered cursor.
    expect(planSync(request({ table: 'orders' }), state()).cursorColumn).toBeUndefined();
  });
});

describe('planRead', () => {
  const incremental = (s?: SyncState) =>
    planSync(request({ table: 'orders', sync_mode: 'incremental', cursor_column: 'UpdatedAt' }), s);

  it('gives every column its bronze name and keeps the source spelling', () => {
    const read = planRead(planSync(request({ table: 'orders' })), {}, shape, undefined, true);
    expect(read.columns.map((c) => [c.name, c.original])).toEqual([
      ['order_id', 'Order Id'],
      ['updated_at', 'UpdatedAt'],
      ['amount', undefined],
    ]);
    expect(read).toMatchObject({ cursor: undefined, readOnce: false, keys: [] });
  });

  it('reads past the stored watermark, once per changed row, when the state fits this source and cursor', () => {
    const read = planRead(incremental(state()), {}, shape, state(), true);
    expect(read.cursor).toEqual({
      column: 'UpdatedAt',
      pgType: 'timestamptz',
      watermark: '2026-01-01 00:00:00+00',
      snapshot: '100:100:',
    });
    expect(read).toMatchObject({ readOnce: true, cursorName: 'updated_at', keys: ['order_id'] });
  });

  it('reads everything when the target is gone, the state is of another source, or there is no watermark', () => {
    expect(planRead(incremental(state()), {}, shape, state(), false).cursor).toBeUndefined();
    expect(
      planRead(incremental(state()), {}, shape, state({ source: 'query' }), true).cursor,
    ).toBeUndefined();
    expect(
      planRead(incremental(state()), {}, shape, state({ watermark: null }), true).cursor,
    ).toBeUndefined();
    expect(planRead(incremental(), {}, shape, undefined, true).cursor).toBeUndefined();
  });

  it('says "at or after" when the previous run kept no snapshot, and for a query (no xmin)', () => {
    expect(planRead(incremental(state()), {}, shape, state({ sourceSnapshot: null }), true).readOnce).toBe(
      false,
    );
    expect(planRead(incremental(state()), {}, { ...shape, table: false }, state(), true).readOnce).toBe(
      false,
    );
  });

  it('merges on key_columns, the remembered keys, or the primary key, by any spelling', () => {
    expect(planRead(incremental(), { key_columns: ['AMOUNT'] }, shape, undefined, true).keys).toEqual([
      'amount',
    ]);
    expect(planRead(incremental(), {}, shape, undefined, true).keys).toEqual(['order_id']);
    expect(() => planRead(incremental(), { key_columns: ['nope'] }, shape, undefined, true)).toThrow(
      "The source has no key column 'nope'",
    );
    expect(() => planRead(incremental(), {}, { ...shape, primaryKey: [] }, undefined, true)).toThrow(
      /has no primary key/,
    );
  });

  it('names the columns there are when the cursor is not one of them', () => {
    const plan = planSync(
      request({ table: 'orders', sync_mode: 'incremental', cursor_column: 'changed' }),
      undefined,
    );
    expect(() => planRead(plan, {}, shape, undefined, true)).toThrow(/no column 'changed'/);
  });
});
