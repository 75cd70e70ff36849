import { describe, expect, it } from 'vitest';
import { redact, redactValue } from '../src/redact.js';

describe('redact', () => {
  it.each([
    // Any configured base URL: Graph, the Azure authority, Odoo, Power BI, a Databricks host, PostgreSQL.
    ['Graph: https://proxy:s3cret@graph.example/v1.0', 'Graph: https://proxy:[redacted]@graph.example/v1.0'],
    ['authority https://u:p%40ss@login.example', 'authority https://u:[redacted]@login.example'],
    ['ODOO_URL=http://admin:p@ss@odoo.local:8069/', 'ODOO_URL=http://admin:[redacted]@odoo.local:8069/'],
    ['«https://:tok123@adb-1.azuredatabricks.net»', '«https://:[redacted]@adb-1.azuredatabricks.net»'],
    ['postgres://app:pw@db:5432/sales', 'postgres://app:[redacted]@db:5432/sales'],
    // Not userinfo: a port, an address after the URL.
    ['http://localhost:5432/x and bob@example.com', 'http://localhost:5432/x and bob@example.com'],
    ['https://host:8443?next=a@b', 'https://host:8443?next=a@b'],
  ])('%s', (text, expected) => {
    expect(redact(text)).toBe(expected);
  });

  it('redacts every string of a structured value', () => {
    expect(redactValue({ a: ['https://u:pw123@h/'], b: { c: 'ok', n: 1 } })).toEqual({
      a: ['https://u:[redacted]@h/'],
      b: { c: 'ok', n: 1 },
    });
  });
});
