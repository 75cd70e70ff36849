// The fake's DAX subset is what every other test stands on: check it computes, not just answers.
import { describe, expect, it } from 'vitest';
import { DaxError, evaluate, salesModel } from './fake/index.js';

const model = salesModel();
const sales = model.tables.find((t) => t.name === 'Sales')!.rows;
const customers = model.tables.find((t) => t.name === 'Customer')!.rows;
const round2 = (x: number) => Math.round(x * 100) / 100;

describe('the fake DAX subset', () => {
  it('holds about a thousand deterministic rows', () => {
    expect(sales).toHaveLength(1000);
    expect(salesModel().tables[2]!.rows).toEqual(sales);
    expect(sales.some((r) => r.Discount === null)).toBe(true);
  });

  it('evaluates a table, TOPN with an order and FILTER on a column', () => {
    const all = evaluate(model, "EVALUATE 'Customer'");
    expect(all.columns).toEqual([
      'Customer[CustomerKey]',
      'Customer[Name]',
      'Customer[Region]',
      'Customer[Segment]',
    ]);
    expect(all.rows).toHaveLength(50);
    const top = evaluate(model, 'EVALUATE TOPN(3, Sales, Sales[Amount], DESC)');
    const amounts = sales.map((r) => r.Amount as number).sort((a, b) => b - a);
    expect(top.rows.map((r) => r['Sales[Amount]'])).toEqual(amounts.slice(0, 3));
    const west = evaluate(model, 'EVALUATE FILTER(Customer, Customer[Region] = "west")');
    expect(west.rows.length).toBe(customers.filter((c) => c.Region === 'West').length);
  });

  it('sums a measure by a related column with SUMMARIZECOLUMNS, equal to a hand-made sum', () => {
    const out = evaluate(
      model,
      'EVALUATE SUMMARIZECOLUMNS(Customer[Region], "Total", [Total Sales], "Orders", [Order Count]) ORDER BY [Total] DESC',
    );
    expect(out.columns).toEqual(['Customer[Region]', '[Total]', '[Orders]']);
    const region = new Map(customers.map((c) => [c.CustomerKey, c.Region as string]));
    const byRegion = new Map<string, number>();
    for (const s of sales)
      byRegion.set(
        region.get(s.CustomerKey)!,
        (byRegion.get(region.get(s.CustomerKey)!) ?? 0) + (s.Amount as number),
      );
    for (const row of out.rows)
      expect(round2(row['[Total]'] as number)).toBe(round2(byRegion.get(row['Customer[Region]'] as string)!));
    expect(out.rows.reduce((n, r) => n + (r['[Orders]'] as number), 0)).toBe(1000);
    const totals = out.rows.map((r) => r['[Total]'] as number);
    expect([...totals].sort((a, b) => b - a)).toEqual(totals);
  });

  it('applies context transition and filter tables', () => {
    const big = evaluate(model, 'EVALUATE FILTER(Customer, [Total Sales] > 20000)');
    const perCustomer = new Map<unknown, number>();
    for (const s of sales)
      perCustomer.set(s.CustomerKey, (perCustomer.get(s.CustomerKey) ?? 0) + (s.Amount as number));
    expect(big.rows.length).toBe([...perCustomer.values()].filter((v) => v > 20000).length);
    const filtered = evaluate(
      model,
      'EVALUATE SUMMARIZECOLUMNS(Product[Category], FILTER(Customer, Customer[Segment] = "Corporate"), "Units", [Units])',
    );
    expect(filtered.rows.length).toBe(4);
    expect(
      evaluate(model, 'EVALUATE ROW("n", COUNTROWS(Sales), "avg", [Average Order])').rows[0]!['[n]'],
    ).toBe(1000);
  });

  it('answers INFO.VIEW and COLUMNSTATISTICS', () => {
    expect(evaluate(model, 'EVALUATE INFO.VIEW.TABLES()').rows.map((r) => r['[Name]'])).toEqual([
      'Customer',
      'Product',
      'Sales',
    ]);
    expect(
      evaluate(model, 'EVALUATE INFO.VIEW.MEASURES()', { hideMeasureExpressions: true }).rows[0]![
        '[Expression]'
      ],
    ).toBeNull();
    const stats = evaluate(model, 'EVALUATE COLUMNSTATISTICS()');
    expect(stats.rows.find((r) => r['[Column Name]'] === 'Quantity')).toMatchObject({
      '[Min]': 1,
      '[Max]': 10,
      '[Cardinality]': 10,
    });
    expect(() => evaluate(model, 'EVALUATE INFO.VIEW.TABLES()', { refuseInfoView: true })).toThrow(
      /permission/,
    );
  });

  it.each([
    ['EVALUATE Nope', "Query (1, 10) The table 'Nope' cannot be found."],
    [
      "EVALUATE TOPN(5, 'Sales', Sales[Amnt])",
      "Query (1, 27) Column 'Amnt' in table 'Sales' cannot be found or may not be used in this expression.",
    ],
    [
      'EVALUATE\n  SUMMARIZECOLUMNS(Customer[Region], "x", [Nothing])',
      "Query (2, 43) The value for 'Nothing' cannot be determined. Either the column doesn't exist, or there is no current row for this column.",
    ],
    [
      'EVALUATE FILTR(Sales, 1)',
      "Query (1, 10) Failed to resolve name 'FILTR'. It is not a valid table, variable, or function name.",
    ],
    ['SELECT * FROM Sales', "Query (1, 1) The syntax for 'SELECT' is incorrect."],
  ])('refuses %j with the position and wording of Analysis Services', (query, message) => {
    let error: unknown;
    try {
      evaluate(model, query);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DaxError);
    expect((error as DaxError).message).toBe(message);
  });
});
