/**
 * What `lakehouse_query_sql` may run on the embedded DuckDB warehouse, decided on DuckDB's own parse tree
 * (`json_serialize_sql`) by allow-lists, before anything runs. The engine it runs on is opened read-only with
 * external access off, but DuckDB still writes its own database file, WAL and temp folder whatever those
 * settings say, and `EXPLAIN ANALYZE` runs the statement it wraps: so only a plain query passes, reading the
 * tenant's own layers, with no table function but a few generators and no function that reads settings.
 */
import { UserInputError, oneLine } from '@switchyard/core';

/** Schemas a query may read: the layers, the server's own records, and the standard catalog views. */
const SCHEMAS = new Set(['bronze', 'silver', 'gold', '_meta', 'information_schema']);

/** Table functions that only generate values. Everything else (files, settings, `query()`, metadata) is refused. */
const TABLE_FUNCTIONS = new Set(['range', 'generate_series', 'unnest', 'generate_subscripts']);

/** Scalar functions that read the engine's configuration or environment (paths of the user's machine). */
const DENIED_FUNCTIONS = new Set(['current_setting', 'getenv', 'getvariable', 'current_setting_value']);

/** Kinds of FROM items that hold no data of their own; their children are checked. */
const CONTAINERS = new Set(['SUBQUERY', 'JOIN', 'EXPRESSION_LIST', 'EMPTY', 'PIVOT', 'SHOW_REF']);

const FILE_HINT = 'Load a file with lakehouse_upload_file, then query its bronze table';
const HINT =
  "Query the tenant's tables by layer (bronze.x, silver.x, gold.x); lakehouse_list_tables shows them";

export interface QueryTree {
  error: boolean;
  error_message?: string;
  statements?: unknown[];
}

/**
 * Refuses a parsed statement that reaches past the tenant's tables; returns the tables it reads
 * (`schema.table`, for lineage).
 */
export function checkQueryTree(tree: QueryTree, catalog: string): string[] {
  if (tree.error) {
    throw new UserInputError(
      `Only a query can run here, and DuckDB cannot read this one as a plain query (${oneLine(tree.error_message)}); nothing was run`,
      { hint: 'Send a single SELECT (or WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, PIVOT … IN (…))' },
    );
  }
  const ctes = new Set<string>();
  collectCtes(tree.statements, ctes);
  const tables = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.class === 'FUNCTION') checkFunction(n);
    else if (isFromItem(n)) {
      checkFromItem(n, catalog, ctes, tables);
    }
    Object.values(n).forEach(visit);
  };
  visit(tree.statements);
  return [...tables].sort();
}

/** A FROM item (table, table function, join, subquery…); query nodes (SELECT_NODE…) and expressions are not. */
function isFromItem(n: Record<string, unknown>): boolean {
  return typeof n.type === 'string' && !n.type.endsWith('_NODE') && 'sample' in n && !('class' in n);
}

function checkFunction(n: Record<string, unknown>): void {
  const name = String(n.function_name ?? '').toLowerCase();
  if (n.schema || n.catalog) {
    throw new UserInputError(
      `Functions cannot be named with a schema here (${clip(name)}); nothing was run`,
      {
        hint: 'Call built-in functions by their plain name',
      },
    );
  }
  if (DENIED_FUNCTIONS.has(name)) {
    throw new UserInputError(
      `The function ${name}() reads the engine's configuration and cannot be used in queries; nothing was run`,
    );
  }
}

function checkFromItem(
  n: Record<string, unknown>,
  catalog: string,
  ctes: Set<string>,
  tables: Set<string>,
): void {
  const type = n.type as string;
  if (type === 'BASE_TABLE') {
    const table = String(n.table_name ?? '');
    const schema = String(n.schema_name ?? '').toLowerCase();
    const cat = String(n.catalog_name ?? '').toLowerCase();
    if (!schema && !cat && ctes.has(table.toLowerCase())) return;
    if (!schema) {
      throw new UserInputError(
        /[/\\:.]/.test(table)
          ? `Files and URLs cannot be read by a query (${clip(table)}); nothing was run`
          : `The table ${clip(table)} is not named with its layer; nothing was run`,
        {
          hint: /[/\\:.]/.test(table) ? FILE_HINT : HINT,
        },
      );
    }
    if ((cat && cat !== catalog) || !SCHEMAS.has(schema)) {
      throw new UserInputError(
        `Only this tenant's layers can be queried, and ${clip([cat, schema, table].filter(Boolean).join('.'))} is not one of them; nothing was run`,
        { hint: HINT },
      );
    }
    tables.add(`${schema}.${table}`);
    return;
  }
  if (type === 'TABLE_FUNCTION') {
    const fn = (n.function ?? {}) as Record<string, unknown>;
    const name = String(fn.function_name ?? '').toLowerCase();
    if (!TABLE_FUNCTIONS.has(name) || fn.schema || fn.catalog) {
      throw new UserInputError(
        `The table function ${clip(name)}() cannot be used in queries (only ${[...TABLE_FUNCTIONS].join(', ')} can); nothing was run`,
        { hint: /^read_|scan$|^sniff|^glob$/.test(name) ? FILE_HINT : HINT },
      );
    }
    return;
  }
  if (!CONTAINERS.has(type)) {
    throw new UserInputError(
      `A FROM item of kind ${clip(type)} cannot be used in queries here; nothing was run`,
      {
        hint: HINT,
      },
    );
  }
}

function collectCtes(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) return node.forEach((n) => collectCtes(n, into));
  if (!node || typeof node !== 'object') return;
  const n = node as Record<string, unknown>;
  const map = (n.cte_map as { map?: Array<{ key?: unknown }> } | undefined)?.map;
  if (Array.isArray(map))
    for (const entry of map) if (typeof entry.key === 'string') into.add(entry.key.toLowerCase());
  Object.values(n).forEach((v) => collectCtes(v, into));
}

/**
 * An engine message without the folders of this machine: `/home/ann/.local/share/…/tenant_acme.duckdb`
 * becomes `…/tenant_acme.duckdb`. DuckDB names its database file, WAL, temp and secret folders and the files it
 * reads in errors; where the user's files and the lakehouse live is not the model's business. URLs
 * (`https://host/x`) and dates (`2024/01/02`) are left alone.
 */
export function withoutLocalPaths(text: string): string {
  return text.replace(
    /(?<![\w.:/\\~-])(?:[A-Za-z]:)?(?:~)?[\\/](?:[^\s\\/'"«»(),;:]+[\\/])+([^\s\\/'"«»(),;:]*)/g,
    (_m, last: string) => `…/${last}`,
  );
}

/** A name from the query, short and on one line, for a message. */
function clip(text: string): string {
  const flat = oneLine(text);
  return flat.length > 80 ? `${flat.slice(0, 77)}…` : flat;
}
