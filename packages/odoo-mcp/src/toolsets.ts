import { defineToolset } from '@switchyard/core';

/** The toolsets `--toolsets` selects; each tool names one by id, and switchyard://toolsets publishes them. */
export const ODOO_TOOLSETS = [
  defineToolset({
    id: 'records',
    description: 'Any model: list models, describe, search, count, aggregate, read, attachments.',
  }),
  defineToolset({
    id: 'business',
    description: 'The everyday questions: sales orders, employees, inventory, invoices.',
  }),
  // Opt-in: writes change the user's ERP, so they are served only when switched on.
  defineToolset({
    id: 'write',
    description: 'Create, update and delete records.',
    default: false,
    enabledBy: {
      flags: '--allow-writes',
      description: 'serve the write toolset (create, update, delete); --read-only still wins',
      env: 'ODOO_ALLOW_WRITES',
      what: 'Odoo writes',
    },
  }),
];
