/** Employees by name, department, job, archive state and hire date (where the database has one). */
import { UserInputError } from '@switchyard/core';
import { type Period, dateRangeDomain, resolveRange } from '../dates.js';
import { and } from '../domain.js';
import { shapeRows } from '../fields.js';
import type { FieldMap, OdooClient } from '../odoo-client.js';
import { byNameOrId, readPage } from './common.js';

export interface EmployeeFilter {
  name?: string | undefined;
  department?: string | undefined;
  job?: string | undefined;
  status: 'active' | 'archived' | 'all';
  hired_period?: Period | undefined;
  hired_since?: string | undefined;
}

/** The hr.employee domain, columns and order for a filter, against this database's fields. */
export function employeesQuery(filter: EmployeeFilter, meta: FieldMap, tz: string, now = new Date()) {
  const hireField = ['first_contract_date', 'contract_date_start', 'date_start'].find(
    (f) => meta[f]?.type === 'date',
  );
  const wantsHire = Boolean(filter.hired_period || filter.hired_since);
  if (wantsHire && !hireField) {
    throw new UserInputError(
      "This database's hr.employee has no hire date field, so employees cannot be filtered by hire date",
      {
        hint: 'Odoo adds first_contract_date with the Employee Contracts app; without it, list employees without a hire filter',
      },
    );
  }
  const range = wantsHire
    ? resolveRange({ period: filter.hired_period, date_from: filter.hired_since }, tz, undefined, now)
    : undefined;
  const job = filter.job?.trim();
  const domain = and(
    filter.name ? [['name', 'ilike', filter.name.trim()]] : [],
    byNameOrId('department_id', filter.department),
    job
      ? meta.job_id
        ? ['|', ['job_title', 'ilike', job], ['job_id', 'ilike', job]]
        : [['job_title', 'ilike', job]]
      : [],
    filter.status === 'archived'
      ? [['active', '=', false]]
      : filter.status === 'all'
        ? [['active', 'in', [true, false]]]
        : [],
    range && hireField ? dateRangeDomain(hireField, range) : [],
  );
  const columns = [
    'id',
    'name',
    'job_title',
    'department_id',
    'parent_id',
    'work_email',
    ...(hireField ? [hireField] : []),
    ...(filter.status === 'all' ? ['active'] : []),
  ].filter((c) => c === 'id' || c in meta);
  const order = range && hireField ? `${hireField} desc, name` : 'name';
  return { range, domain, columns, order };
}

/** One page of employees and the count of all matches: two calls after the field list. */
export async function listEmployees(
  client: OdooClient,
  args: EmployeeFilter & { limit: number; offset: number },
  signal: AbortSignal | undefined,
) {
  const session = await client.session(signal);
  const meta = await client.fields('hr.employee', signal);
  const { range, domain, columns, order } = employeesQuery(args, meta, session.tz);
  const [rows, total] = await readPage(
    client,
    'hr.employee',
    { domain, fields: columns.slice(1), offset: args.offset, limit: args.limit, order },
    signal,
  );
  return { range, columns, textRows: shapeRows(rows, columns, meta, session.tz).text, total };
}
