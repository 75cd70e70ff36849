/**
 * A SQL draft for a question in plain words, in the tenant's dialect: matched to tables and columns by the
 * question's words, checked by planning it, and improved by the host's model through sampling when asked (kept only
 * if it plans). Also the helpers the insight tools share: the host's model and its narrative, and the tables with
 * their columns.
 */
import { fenceUntrusted, NotFoundError, type ToolContext } from '@switchyard/core';
import { draftQuery, sqlFromAnswer, type DraftCandidate } from './insight/draft.js';
import { parseTableRef } from './lakehouse.js';
import { n } from './tools/common.js';
import type { TableRef, TenantWarehouse } from './warehouse/types.js';

const DIALECT_NAME = { duckdb: 'DuckDB SQL', databricks: 'Databricks SQL (Spark SQL)' } as const;

/** The host model's answer, or why there is none. */
export interface Narrative {
  text?: string;
  note?: string;
}

/** Ask the host's model, when it offers sampling; a refusal or failure is a note, never the tool's failure. */
export async function ask(
  ctx: Pick<ToolContext, 'sample' | 'sampleUnavailable'>,
  system: string,
  prompt: string,
): Promise<Narrative> {
  if (!ctx.sample)
    return { note: ctx.sampleUnavailable ?? 'the host offers no sampling, so no model was asked' };
  try {
    const text = (await ctx.sample({ system, prompt, maxTokens: 600, temperature: 0 })).trim();
    return text ? { text } : { note: "the host's model gave an empty answer" };
  } catch (err) {
    return { note: `the host's model was not available (${(err as Error).message})` };
  }
}

/** A narrative as an answer's last part: fenced as the model's words beside what it rests on, or the note. */
export function narrativeText(narrative: Narrative, basis: string): string {
  if (narrative.text)
    return `\nNarrative (written by the host's model via MCP sampling; ${basis}):\n${fenceUntrusted(narrative.text, 'model narrative')}`;
  return narrative.note ? `\n(No narrative: ${narrative.note}.)` : '';
}

const MAX_CANDIDATES = 60;

/** The tables a draft or a join search looks at, with their columns, and what was left out and why. */
export async function tablesWithColumns(
  tenant: TenantWarehouse,
  only?: TableRef[],
): Promise<{ candidates: DraftCandidate[]; notes: string[] }> {
  const all = await tenant.listTables();
  const notes: string[] = [];
  let chosen = all;
  if (only) {
    chosen = all.filter((t) => only.some((o) => o.layer === t.layer && o.name === t.name));
    const missing = only.filter((o) => !all.some((t) => t.layer === o.layer && t.name === o.name));
    if (missing.length && chosen.length)
      notes.push(`${missing.map((m) => `${m.layer}.${m.name}`).join(', ')} not found and left out`);
  } else if (all.length > MAX_CANDIDATES) {
    chosen = all.slice(0, MAX_CANDIDATES);
    notes.push(
      `only the first ${MAX_CANDIDATES} of ${n(all.length)} tables were considered; pass tables to choose`,
    );
  }
  const candidates: DraftCandidate[] = [];
  for (const t of chosen) {
    const columns = await tenant.columnsOf({ layer: t.layer, name: t.name });
    if (columns) candidates.push({ ref: { layer: t.layer, name: t.name }, kind: t.kind, columns });
  }
  return { candidates, notes };
}

export interface SuggestRequest {
  question: string;
  tables?: string[] | undefined;
  use_model: boolean;
}

export interface SuggestedQuery {
  /** The dialect in words (`DuckDB SQL`). */
  dialect: string;
  sql: string;
  /** Who wrote it, in words. */
  source: string;
  modelWritten: boolean;
  valid: boolean;
  /** Why it does not plan, when it does not. */
  error: string | undefined;
  tables: string[];
  columns: string[];
  notes: string[];
}

export async function suggestQuery(
  tenant: TenantWarehouse,
  args: SuggestRequest,
  ctx: Pick<ToolContext, 'signal' | 'sample' | 'sampleUnavailable'>,
): Promise<SuggestedQuery> {
  const only = args.tables?.map((t) => parseTableRef(t, tenant.catalog));
  const { candidates, notes: left } = await tablesWithColumns(tenant, only);
  const dialect = DIALECT_NAME[tenant.dialect];
  if (candidates.length === 0) {
    throw new NotFoundError(
      only
        ? `None of ${args.tables!.join(', ')} exists in ${tenant.catalog}`
        : `Catalog ${tenant.catalog} has no tables yet`,
      {
        hint: 'Load data first (lakehouse_sync_table_to_bronze, lakehouse_upload_file), or call lakehouse_list_tables',
      },
    );
  }
  const drafted = draftQuery(args.question, candidates, (t) => tenant.logicalType(t))!;
  const notes = [...left, ...drafted.notes];
  let sql = tenant.renderDraft(drafted.draft);
  let source = 'deterministic (question words matched to tables and columns)';
  let tables = drafted.tables;
  let columns = drafted.columns;
  let valid = true;
  let error: string | undefined;
  try {
    await tenant.validateQuery(sql, ctx.signal);
  } catch (err) {
    valid = false;
    error = (err as Error).message;
    notes.push(`the deterministic draft did not plan: ${error}`);
  }
  if (args.use_model) {
    const schema = candidates
      .slice(0, 20)
      .map((t) => `${t.ref.layer}.${t.ref.name}(${t.columns.map((c) => `${c.name} ${c.type}`).join(', ')})`)
      .join('\n');
    const answer = await ask(
      ctx,
      `You write one read-only ${dialect} SELECT. Tables are named layer.table. Answer with the SQL only, in a \`\`\`sql fence.`,
      `Tables:\n${fenceUntrusted(schema, 'schema')}\nQuestion: ${args.question}\nA draft to improve on:\n${sql}`,
    );
    const proposed = answer.text ? sqlFromAnswer(answer.text) : undefined;
    if (answer.note) notes.push(answer.note);
    else if (!proposed)
      notes.push("the host's model answered without a SELECT; the deterministic draft is kept");
    else {
      try {
        const checked = await tenant.validateQuery(proposed, ctx.signal);
        sql = proposed;
        source = 'host model (MCP sampling), validated by planning';
        tables = checked.tables;
        columns = checked.columns.map((c) => c.name);
        valid = true;
      } catch (err) {
        notes.push(`the host model's draft was refused and not used: ${(err as Error).message}`);
      }
    }
  }
  return {
    dialect,
    sql,
    source,
    modelWritten: source.startsWith('host model'),
    valid,
    error,
    tables,
    columns,
    notes,
  };
}
