/**
 * What a Databricks query may name, and the sentences that refuse the rest: the tenant's own schemas (layers
 * rewritten to them in a shared catalog), the built-in table functions a FROM clause may call, and the
 * deny-list of built-ins that reach files, secrets, the network, a model or the JVM. The query check
 * (sql-check.ts) applies them on Spark's tokens (spark-lexer.ts) and on the parser's table list.
 */
import { UserInputError } from '@switchyard/core';
import type { Naming } from './dialect.js';
import type { Layer } from '../types.js';
import { blank, nameOf, tokenize } from './spark-lexer.js';

/**
 * In a shared catalog, `bronze.orders` and `tenant_x.bronze.orders` name the tenant's own schemas:
 * rewrite them to `catalog`.`tenant_x_bronze`.orders. With `qualify` (view bodies, which are resolved when
 * read), every layer also gets the catalog: `tenant_x`.`bronze`.orders. Strings, comments and other names are
 * left alone.
 */
export function mapLayers(sql: string, n: Naming, options: { qualify?: boolean } = {}): string {
  if (!n.shared && !options.qualify) return sql;
  const catalog = `\`${n.catalog.replace(/`/g, '``')}\``;
  const tokens = tokenize(sql);
  const layers = new Set(['bronze', 'silver', 'gold']);
  const next = (from: number): number => {
    let j = from;
    while (blank(tokens[j])) j++;
    return j;
  };
  const prev = (from: number): number => {
    let j = from;
    while (j >= 0 && blank(tokens[j])) j--;
    return j;
  };
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const name = nameOf(tokens[i]);
    const before = prev(i - 1);
    const afterDot = before >= 0 && tokens[before]!.text === '.';
    if (name && !afterDot) {
      const dot = next(i + 1);
      if (tokens[dot]?.text === '.') {
        const second = next(dot + 1);
        const secondName = nameOf(tokens[second]);
        if (
          name === n.tenantCatalog &&
          secondName &&
          layers.has(secondName) &&
          tokens[next(second + 1)]?.text === '.'
        ) {
          out += `${catalog}.\`${n.schema(secondName as Layer)}\``;
          i = second;
          continue;
        }
        if (layers.has(name)) {
          out += `${options.qualify ? `${catalog}.` : ''}\`${n.schema(name as Layer)}\``;
          continue;
        }
      }
    }
    out += tokens[i]!.text;
  }
  return out;
}

/**
 * Built-in functions that read files, streams or other tables by a string, reach the network, secrets, a
 * model or the JVM: never in a query here (checked against the Databricks SQL function reference). Any name
 * starting `ai_` (the AI functions) or `read_` (read_files, read_kafka, read_kinesis, read_pubsub,
 * read_pulsar, read_statestore, read_state_metadata, and later ones) is refused as well.
 */
const FORBIDDEN_FUNCTIONS = new Set([
  'cloud_files',
  'cloud_files_state',
  'event_log',
  'table_changes',
  'remote_query',
  'http_request',
  'secret',
  'try_secret',
  'list_secrets',
  'vector_search',
  'java_method',
  'reflect',
  'try_reflect',
  // Avro and Protobuf conversions take schema-registry addresses or descriptor-file paths as options.
  'from_avro',
  'to_avro',
  'schema_of_avro',
  'from_protobuf',
  'to_protobuf',
]);
const FORBIDDEN_PREFIXES = ['ai_', 'read_'];

export function forbidden(name: string): boolean {
  return FORBIDDEN_FUNCTIONS.has(name) || FORBIDDEN_PREFIXES.some((p) => name.startsWith(p));
}

/** The table-valued functions a FROM clause may call: built-in generators over values, no table or file. */
export const TABLE_FUNCTIONS = new Set([
  'range',
  'explode',
  'explode_outer',
  'posexplode',
  'posexplode_outer',
  'inline',
  'inline_outer',
  'stack',
  'json_tuple',
  'variant_explode',
  'variant_explode_outer',
]);

/** Data sources Spark reads a path as a table with: `delta`.`/path`, parquet.`s3://…`. */
const FILE_FORMATS = new Set([
  'delta',
  'parquet',
  'json',
  'csv',
  'tsv',
  'orc',
  'avro',
  'text',
  'binaryfile',
  'xml',
  'jdbc',
]);
/** Catalogs that are never a tenant's. */
const FOREIGN_CATALOGS = new Set(['system', 'samples', 'hive_metastore', 'spark_catalog']);

/** Words after which a FROM list is over at that level of parentheses. */
export const FROM_ENDS = new Set([
  'where',
  'group',
  'having',
  'order',
  'qualify',
  'window',
  'limit',
  'offset',
  'union',
  'except',
  'intersect',
  'minus',
  'select',
  'cluster',
  'distribute',
  'sort',
]);
/** Words that end a table position rather than name a table (`SELECT table FROM t`). */
export const CLAUSE_WORDS = new Set([
  ...FROM_ENDS,
  'from',
  'join',
  'on',
  'using',
  'inner',
  'left',
  'right',
  'full',
  'cross',
  'natural',
  'semi',
  'anti',
  'outer',
  'as',
  'pivot',
  'unpivot',
  'tablesample',
]);
/** Words that start a query (a statement, or a subquery in parentheses). */
export const QUERY_WORDS = new Set(['select', 'with', 'values', 'table']);

export const HINT_ONE = 'Send a single SELECT without a second statement after a semicolon';
export const HINT_QUERY =
  'Use SELECT (or WITH, VALUES, TABLE); data changes go through the sync, upload and transform tools';
export const HINT_TABLES = "Only this tenant's tables can be queried; call lakehouse_list_tables to see them";
export const HINT_FILES = 'Load files with lakehouse_upload_file, then query their bronze tables';

/** A name or text from the query, cut short so an answer never repeats a long input. */
export function short(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 57)}…` : flat;
}

export function refuse(sentence: string, hint: string): never {
  throw new UserInputError(`${sentence}; nothing was run`, { hint });
}

function outside(name: string, n: Naming): never {
  refuse(
    `The query names ${short(name)}, which is outside this tenant's catalog ${n.tenantCatalog}`,
    HINT_TABLES,
  );
}

/** The tenant's schemas (lower case), with the layer each holds. */
function ownSchemas(n: Naming): Map<string, string> {
  const own = new Map<string, string>();
  for (const layer of ['bronze', 'silver', 'gold'] as const) own.set(n.schema(layer).toLowerCase(), layer);
  own.set(n.schema('meta').toLowerCase(), '_meta');
  if (!n.shared) own.set('information_schema', 'information_schema');
  return own;
}

/** A name read as a table (after layers are mapped): `t`, `schema.t` or `catalog.schema.t` of this tenant. */
export function checkTableName(parts: string[], n: Naming): void {
  const name = parts.join('.');
  if (parts.length === 2 && FILE_FORMATS.has(parts[0]!) && /[/:]/.test(parts[1]!)) {
    refuse(
      `The query reads the path ${short(parts[1]!)} as a ${parts[0]} table, and files cannot be read here`,
      HINT_FILES,
    );
  }
  if (parts.length === 1) return;
  const own = ownSchemas(n);
  const ok =
    (parts.length === 2 && own.has(parts[0]!)) ||
    (parts.length === 3 && parts[0] === n.catalog.toLowerCase() && own.has(parts[1]!));
  if (!ok) outside(name, n);
}

/** Names of more than one part, anywhere (tables, columns, functions): no other tenant, no foreign catalog. */
export function checkQualifiedName(parts: string[], n: Naming): void {
  const own = new Set([n.tenantCatalog.toLowerCase(), n.catalog.toLowerCase(), ...ownSchemas(n).keys()]);
  for (let k = 0; k < parts.length - 1; k++) {
    const part = parts[k]!;
    if (FILE_FORMATS.has(part) && /[/:]/.test(parts[k + 1]!)) checkTableName(parts.slice(k, k + 2), n);
    if ((k === 0 && FOREIGN_CATALOGS.has(part)) || (part.startsWith('tenant_') && !own.has(part))) {
      outside(parts.join('.'), n);
    }
  }
}

/** `select::db::table` entries → the tenant's `layer.table`; anything outside the tenant is refused. */
export function tablesOf(refs: string[], n: Naming): string[] {
  const own = ownSchemas(n);
  const found = new Set<string>();
  for (const ref of refs) {
    const [, db, table] = ref.split('::');
    if (!table) continue;
    if (!db || db === 'null') {
      found.add(`bronze.${table}`);
      continue;
    }
    const parts = db.split('.').map((p) => p.toLowerCase());
    const schema = parts[parts.length - 1]!;
    const catalogOk = parts.length === 1 || (parts.length === 2 && parts[0] === n.catalog.toLowerCase());
    const layer = own.get(schema);
    if (!catalogOk || !layer) outside(`${db}.${table}`, n);
    found.add(`${layer}.${table}`);
  }
  return [...found].sort();
}
