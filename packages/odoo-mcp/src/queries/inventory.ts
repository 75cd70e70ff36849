/**
 * Stock levels: quantities per product and internal location (grouped by Odoo) with per-location forecasts,
 * or the storable products whose quantity on hand is below a threshold.
 */
import { NotFoundError, UserInputError } from '@switchyard/core';
import { and } from '../domain.js';
import { shapeRows } from '../fields.js';
import { groupedRead } from '../group.js';
import type { FieldMap, OdooClient } from '../odoo-client.js';
import { byNameOrId, underNameOrId } from './common.js';

export interface InventoryFilter {
  product?: string | undefined;
  category?: string | undefined;
  location?: string | undefined;
}

/** Forecasts are read for at most this many locations of a page. */
export const FORECAST_LOCATIONS = 10;
/** Low-stock products are sorted here (Odoo cannot sort by a computed field): at most this many are read. */
export const LOW_STOCK_CAP = 2000;

/** The stock.quant domain: internal locations only; a category or location id takes its children too. */
export function quantsDomain(filter: InventoryFilter): unknown[] {
  return and(
    [['location_id.usage', '=', 'internal']],
    byNameOrId('product_id', filter.product),
    underNameOrId('product_id.categ_id', filter.category),
    underNameOrId('location_id', filter.location?.trim()),
  );
}

/** The product.product domain for storable products below `threshold` on hand (Odoo 18 has is_storable). */
export function lowStockDomain(filter: InventoryFilter, threshold: number, meta: FieldMap): unknown[] {
  const product = filter.product?.trim();
  return and(
    meta.is_storable ? [['is_storable', '=', true]] : [['type', '=', 'product']],
    [['qty_available', '<', threshold]],
    product
      ? /^\d+$/.test(product)
        ? [['id', '=', Number(product)]]
        : ['|', ['name', 'ilike', product], ['default_code', 'ilike', product]]
      : [],
    underNameOrId('categ_id', filter.category?.trim()),
  );
}

export const STOCK_COLUMNS = ['product', 'location', 'on_hand', 'reserved', 'available', 'forecast'];

/** Quantities per product and location, a page of them with forecasts; `locations` counts the page's locations. */
export async function stockLevels(
  client: OdooClient,
  args: InventoryFilter & { limit: number; offset: number },
  signal: AbortSignal | undefined,
) {
  const session = await client.session(signal);
  const meta = await client.fields('stock.quant', signal);
  const groups = await groupedRead(
    client,
    session,
    'stock.quant',
    quantsDomain(args),
    [
      { spec: 'product_id', field: 'product_id', granularity: undefined, info: meta.product_id! },
      { spec: 'location_id', field: 'location_id', granularity: undefined, info: meta.location_id! },
    ],
    [
      { spec: 'quantity:sum', field: 'quantity', fn: 'sum', alias: 'quantity_sum' },
      {
        spec: 'reserved_quantity:sum',
        field: 'reserved_quantity',
        fn: 'sum',
        alias: 'reserved_quantity_sum',
      },
    ],
    { limit: 5000, signal },
  );
  const page = groups.slice(args.offset, args.offset + args.limit);
  // Forecasts are per location: one read per distinct location on the page (at most ten).
  const byLocation = new Map<number, number[]>();
  for (const g of page) {
    const product = g.keys[0]!.data as [number, string] | null;
    const loc = g.keys[1]!.data as [number, string] | null;
    if (!product || !loc) continue;
    const list = byLocation.get(loc[0]) ?? [];
    list.push(product[0]);
    byLocation.set(loc[0], list);
  }
  const forecasts = new Map<string, number>();
  const locations = [...byLocation.entries()].slice(0, FORECAST_LOCATIONS);
  await Promise.all(
    locations.map(async ([loc, productIds]) => {
      const rows = await client.call<Array<{ id: number; virtual_available: number }>>(
        'product.product',
        'read',
        { ids: [...new Set(productIds)], fields: ['virtual_available'] },
        { signal, context: { location: loc } },
      );
      for (const r of rows) forecasts.set(`${r.id}/${loc}`, r.virtual_available);
    }),
  );
  const round = (n: number | null) => (n === null ? null : Math.round(n * 1000) / 1000);
  const textRows = page.map((g) => {
    const product = g.keys[0]!.data as [number, string] | null;
    const loc = g.keys[1]!.data as [number, string] | null;
    const onHand = g.values[0] ?? 0;
    const reserved = g.values[1] ?? 0;
    const forecast = product && loc ? forecasts.get(`${product[0]}/${loc[0]}`) : undefined;
    return [
      g.keys[0]!.text,
      g.keys[1]!.text,
      round(onHand),
      round(reserved),
      round(onHand - reserved),
      forecast === undefined ? null : round(forecast),
    ];
  });
  return { columns: STOCK_COLUMNS, textRows, total: groups.length, locations: byLocation.size };
}

/** One internal location by id or name; several matches must be told apart. */
export async function findLocation(
  client: OdooClient,
  text: string,
  signal?: AbortSignal,
): Promise<{ id: number; name: string }> {
  const domain = /^\d+$/.test(text)
    ? [['id', '=', Number(text)]]
    : [
        ['usage', '=', 'internal'],
        ['complete_name', 'ilike', text],
      ];
  const rows = await client.call<Array<{ id: number; complete_name: string }>>(
    'stock.location',
    'search_read',
    { domain, fields: ['complete_name'], limit: 20, order: 'complete_name' },
    { signal },
  );
  const exact = rows.find((r) => r.complete_name.toLowerCase() === text.toLowerCase());
  if (exact) return { id: exact.id, name: exact.complete_name };
  if (rows.length === 1) return { id: rows[0]!.id, name: rows[0]!.complete_name };
  if (rows.length === 0) {
    throw new NotFoundError(`No internal stock location matches '${text}'`, {
      hint: "Search stock.location with odoo_search_records (domain [['usage','=','internal']])",
    });
  }
  throw new UserInputError(
    `Several stock locations match '${text}': ${rows.map((r) => `${r.complete_name} #${r.id}`).join(', ')}; pass the id or the full name`,
  );
}

export const LOW_STOCK_COLUMNS = ['id', 'default_code', 'product', 'category', 'on_hand', 'forecast'];

/** Storable products under `threshold` on hand (in one location and its children when asked), fewest first. */
export async function lowStock(
  client: OdooClient,
  args: InventoryFilter & { limit: number; offset: number },
  threshold: number,
  signal?: AbortSignal,
) {
  const session = await client.session(signal);
  const meta = await client.fields('product.product', signal);
  const location = args.location?.trim()
    ? await findLocation(client, args.location.trim(), signal)
    : undefined;
  const domain = lowStockDomain(args, threshold, meta);
  const context = location ? { location: location.id } : undefined;
  // qty_available is computed, so Odoo cannot sort by it: read the matches (bounded) and sort here.
  const [rows, total] = await Promise.all([
    client.call<Array<Record<string, unknown>>>(
      'product.product',
      'search_read',
      {
        domain,
        fields: ['default_code', 'name', 'categ_id', 'qty_available', 'virtual_available'],
        limit: LOW_STOCK_CAP,
        order: 'default_code, id',
      },
      { signal, ...(context ? { context } : {}) },
    ),
    client.call<number>(
      'product.product',
      'search_count',
      { domain },
      { signal, ...(context ? { context } : {}) },
    ),
  ]);
  rows.sort((a, b) => Number(a.qty_available) - Number(b.qty_available));
  const page = rows.slice(args.offset, args.offset + args.limit);
  const columns = ['id', 'default_code', 'name', 'categ_id', 'qty_available', 'virtual_available'];
  const shaped = shapeRows(page, columns, meta, session.tz);
  return { location, columns: LOW_STOCK_COLUMNS, textRows: shaped.text, total };
}

/**
 * The inventory tool's table: the products under `low_stock_below` when it is set, otherwise stock per product and
 * location; the title says which, the footer what was left out.
 */
export async function inventoryTable(
  client: OdooClient,
  args: InventoryFilter & { low_stock_below?: number | undefined; limit: number; offset: number },
  signal?: AbortSignal,
) {
  const threshold = args.low_stock_below;
  if (threshold !== undefined) {
    const { location, columns, textRows, total } = await lowStock(client, args, threshold, signal);
    return {
      title: `Storable products with less than ${threshold} on hand${location ? ` in ${location.name}` : ''}`,
      columns,
      textRows,
      total,
      footer:
        total > LOW_STOCK_CAP
          ? `Only the ${LOW_STOCK_CAP} first products were sorted; narrow the filters.`
          : undefined,
    };
  }
  const { columns, textRows, total, locations } = await stockLevels(client, args, signal);
  return {
    title: 'Stock per product and location',
    columns,
    textRows,
    total,
    footer:
      textRows.length === 0
        ? undefined
        : `Forecast: on hand plus planned moves, for the location with its sublocations${
            locations > FORECAST_LOCATIONS
              ? '; shown for the first ten locations only (filter by location)'
              : ''
          }.`,
  };
}
