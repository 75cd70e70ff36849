/**
 * The fake's semantic model: three related tables (Customer 50 rows, Product 20, Sales 1,000) generated
 * from a fixed seed, so every run and every test sees the same numbers, and measures in DAX.
 */
export type Cell = string | number | boolean | null;
export type Row = Record<string, Cell>;
export type DataType = 'Int64' | 'String' | 'Double' | 'DateTime' | 'Boolean';

export interface ModelColumn {
  name: string;
  dataType: DataType;
  hidden?: boolean;
  description?: string;
}

export interface ModelTable {
  name: string;
  description?: string;
  hidden?: boolean;
  columns: ModelColumn[];
  rows: Row[];
}

export interface ModelMeasure {
  name: string;
  table: string;
  expression: string;
  formatString?: string;
  description?: string;
  hidden?: boolean;
}

export interface ModelRelationship {
  fromTable: string;
  fromColumn: string;
  toTable: string;
  toColumn: string;
  isActive: boolean;
}

export interface SemanticModel {
  tables: ModelTable[];
  measures: ModelMeasure[];
  relationships: ModelRelationship[];
  /** The table the measures aggregate (the many side of every relationship). */
  factTable: string;
}

/** mulberry32: a small deterministic PRNG. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function salesModel(seed = 20240101): SemanticModel {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

  const regions = ['North', 'South', 'East', 'West'] as const;
  const segments = ['Consumer', 'Corporate', 'Small Business'] as const;
  const customers: Row[] = Array.from({ length: 50 }, (_, i) => ({
    CustomerKey: i + 1,
    Name: `Customer ${pad(i + 1)}`,
    Region: pick(regions),
    Segment: pick(segments),
  }));

  const categories = ['Hardware', 'Software', 'Services', 'Accessories'] as const;
  const products: Row[] = Array.from({ length: 20 }, (_, i) => ({
    ProductKey: i + 1,
    Product: `${categories[i % 4]} item ${pad(i + 1)}`,
    Category: categories[i % 4]!,
    UnitPrice: Math.round((10 + rand() * 490) * 100) / 100,
  }));

  const start = Date.UTC(2024, 0, 1);
  const sales: Row[] = Array.from({ length: 1000 }, (_, i) => {
    const product = pick(products);
    const quantity = 1 + Math.floor(rand() * 10);
    const discount = rand() < 0.7 ? null : pick([0.05, 0.1, 0.15]);
    const day = new Date(start + Math.floor(rand() * 366) * 86_400_000);
    return {
      SalesKey: i + 1,
      OrderDate: `${day.getUTCFullYear()}-${pad(day.getUTCMonth() + 1)}-${pad(day.getUTCDate())}T00:00:00`,
      CustomerKey: 1 + Math.floor(rand() * customers.length),
      ProductKey: product.ProductKey as number,
      Quantity: quantity,
      Discount: discount,
      Amount: Math.round(quantity * (product.UnitPrice as number) * (1 - (discount ?? 0)) * 100) / 100,
    };
  });

  return {
    factTable: 'Sales',
    tables: [
      {
        name: 'Customer',
        description: 'One row per customer.',
        columns: [
          { name: 'CustomerKey', dataType: 'Int64', hidden: true },
          { name: 'Name', dataType: 'String' },
          { name: 'Region', dataType: 'String', description: 'Sales region of the customer.' },
          { name: 'Segment', dataType: 'String' },
        ],
        rows: customers,
      },
      {
        name: 'Product',
        columns: [
          { name: 'ProductKey', dataType: 'Int64', hidden: true },
          { name: 'Product', dataType: 'String' },
          { name: 'Category', dataType: 'String' },
          { name: 'UnitPrice', dataType: 'Double' },
        ],
        rows: products,
      },
      {
        name: 'Sales',
        description: 'One row per order line, 2024.',
        columns: [
          { name: 'SalesKey', dataType: 'Int64', hidden: true },
          { name: 'OrderDate', dataType: 'DateTime' },
          { name: 'CustomerKey', dataType: 'Int64', hidden: true },
          { name: 'ProductKey', dataType: 'Int64', hidden: true },
          { name: 'Quantity', dataType: 'Int64' },
          { name: 'Discount', dataType: 'Double', description: 'Blank when no discount was given.' },
          { name: 'Amount', dataType: 'Double', description: 'Net amount after discount.' },
        ],
        rows: sales,
      },
    ],
    measures: [
      { name: 'Total Sales', table: 'Sales', expression: 'SUM(Sales[Amount])', formatString: '#,0.00' },
      { name: 'Order Count', table: 'Sales', expression: 'COUNTROWS(Sales)', formatString: '#,0' },
      { name: 'Units', table: 'Sales', expression: 'SUM(Sales[Quantity])', formatString: '#,0' },
      {
        name: 'Average Order',
        table: 'Sales',
        expression: 'DIVIDE([Total Sales], [Order Count])',
        formatString: '#,0.00',
        description: 'Net sales per order line.',
      },
      {
        name: 'Discounted Lines',
        table: 'Sales',
        expression: 'COUNTROWS(FILTER(Sales, Sales[Discount] > 0))',
        hidden: true,
      },
    ],
    relationships: [
      {
        fromTable: 'Sales',
        fromColumn: 'CustomerKey',
        toTable: 'Customer',
        toColumn: 'CustomerKey',
        isActive: true,
      },
      {
        fromTable: 'Sales',
        fromColumn: 'ProductKey',
        toTable: 'Product',
        toColumn: 'ProductKey',
        isActive: true,
      },
    ],
  };
}
