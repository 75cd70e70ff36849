import { defineToolset } from '@switchyard/core';

/** The toolsets `--toolsets` selects; each tool names one by id, and switchyard://toolsets publishes them. */
export const MS365_TOOLSETS = [
  defineToolset({ id: 'mail', description: 'Outlook mail: list, read, send, reply, move, attachments.' }),
  defineToolset({ id: 'calendar', description: 'Outlook calendar: events, meetings, free times.' }),
  defineToolset({
    id: 'files',
    description: 'OneDrive and SharePoint files: list, search, read, download, upload.',
  }),
  defineToolset({ id: 'sharing', description: 'Share files and manage who has access.' }),
  defineToolset({ id: 'sharepoint', description: 'Find SharePoint sites and their document libraries.' }),
];
