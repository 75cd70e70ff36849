import { NotFoundError, UserInputError, defineResource, formatTable } from '@switchyard/core';
import { usefulFields } from './fields.js';
import type { OdooClient } from './odoo-client.js';
import { checkModel } from './tools/common.js';
import { FIELD_COLUMNS, describeFields, recordReply } from './tools/records.js';

export function odooResources(client: OdooClient) {
  const completeModel = async (value: string, { signal }: { signal: AbortSignal }) => {
    const rows = await client.call<Array<{ model: string }>>(
      'ir.model',
      'search_read',
      { domain: [['model', 'ilike', value]], fields: ['model'], limit: 20, order: 'model' },
      { signal },
    );
    return rows.map((r) => r.model);
  };
  return [
    defineResource({
      name: 'odoo_model_fields',
      title: 'Fields of an Odoo model',
      description:
        "A model's useful fields as CSV: label, type, relation, required, readonly, stored, selection values.",
      uriTemplate: 'odoo://models/{model}/fields',
      mimeType: 'text/csv',
      complete: { model: completeModel },
      read: async ({ model }, { signal }) => {
        const fields = await client.fields(checkModel(model!), signal);
        const { rows } = describeFields(fields, {});
        return {
          text: formatTable(FIELD_COLUMNS, rows, { maxRows: rows.length, maxBytes: 256 * 1024 }).text,
        };
      },
    }),
    defineResource({
      name: 'odoo_record',
      title: 'An Odoo record',
      description: 'One record by model and id, its useful fields as field,value lines.',
      uriTemplate: 'odoo://models/{model}/records/{id}',
      mimeType: 'text/plain',
      complete: { model: completeModel },
      read: async ({ model, id }, { signal }) => {
        const name = checkModel(model!);
        if (!/^\d+$/.test(id ?? '')) throw new UserInputError(`'${id}' is not a record id`);
        const session = await client.session(signal);
        const fields = await client.fields(name, signal);
        const names = usefulFields(fields);
        const [row] = await client.call<Array<Record<string, unknown>>>(
          name,
          'read',
          { ids: [Number(id)], fields: names },
          { signal },
        );
        if (!row) throw new NotFoundError(`${name} has no record with id ${id}`);
        return { text: recordReply(name, Number(id), names, row, fields, session.tz).text };
      },
    }),
  ];
}
