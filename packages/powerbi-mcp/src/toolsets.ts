import { defineToolset } from '@switchyard/core';

/** The toolsets `--toolsets` selects; each tool names one by id, and switchyard://toolsets publishes them. */
export const POWERBI_TOOLSETS = [
  defineToolset({ id: 'workspaces', description: 'List the workspaces the sign-in reaches.' }),
  defineToolset({ id: 'datasets', description: 'List semantic models and read their schema.' }),
  defineToolset({ id: 'dax', description: 'Query a semantic model with DAX.' }),
  defineToolset({ id: 'reports', description: 'List reports.' }),
  defineToolset({ id: 'refresh', description: 'Read refresh history; start a refresh.' }),
];
