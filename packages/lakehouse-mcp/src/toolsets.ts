import { defineToolset } from '@switchyard/core';

/** The toolsets `--toolsets` selects; each tool names one by id, and switchyard://toolsets publishes them. */
export const LAKEHOUSE_TOOLSETS = [
  defineToolset({ id: 'sources', description: 'Register PostgreSQL sources, test them, list their tables.' }),
  defineToolset({ id: 'ingest', description: 'Load a source table or a local file into bronze.' }),
  defineToolset({ id: 'warehouse', description: 'List and describe warehouse tables; run read-only SQL.' }),
  defineToolset({ id: 'transform', description: 'Clean bronze into silver; curate gold views.' }),
  defineToolset({ id: 'insight', description: 'Profile a schema, draft queries, explain data.' }),
];
