/** Records of any model matching a domain: the columns asked for (or a short useful set), one page, and the count. */
import { validateDomain } from '../domain.js';
import { checkFieldNames, checkOrder, defaultListFields, shapeRows } from '../fields.js';
import type { OdooClient } from '../odoo-client.js';
import { checkModel } from '../tools/common.js';

export interface RecordSearch {
  model: string;
  domain: unknown[];
  fields?: string[] | undefined;
  order?: string | undefined;
  limit: number;
  offset: number;
}

/** One page of a model's records as rows, with the count of all matches; the domain and order are checked first. */
export async function searchRecords(client: OdooClient, q: RecordSearch, signal: AbortSignal | undefined) {
  const { model, fields, limit, offset, order } = q;
  const session = await client.session(signal);
  const meta = await client.fields(checkModel(model), signal);
  const columns = [
    'id',
    ...(fields ? checkFieldNames(model, fields, meta) : defaultListFields(model, meta)),
  ].filter((c, i, all) => all.indexOf(c) === i);
  const checked = await validateDomain(client, model, q.domain, {
    tz: session.tz,
    major: session.version.major,
    signal,
  });
  const sort = order ? checkOrder(model, order, meta) : undefined;
  const [rows, total] = await Promise.all([
    client.call<Array<Record<string, unknown>>>(
      model,
      'search_read',
      {
        domain: checked,
        fields: columns.filter((c) => c !== 'id'),
        offset,
        limit,
        ...(sort ? { order: sort } : {}),
      },
      { signal },
    ),
    client.call<number>(model, 'search_count', { domain: checked }, { signal }),
  ]);
  return { columns, textRows: shapeRows(rows, columns, meta, session.tz).text, total, tz: session.tz };
}
