import { defineTool, untrusted, z } from '@switchyard/core';
import { saveAttachment } from '../attachments.js';
import type { OdooDeps } from './common.js';

export function attachmentTools({ client, files }: OdooDeps) {
  return [
    defineTool({
      name: 'odoo_save_attachment',
      title: 'Save an attachment',
      description:
        'Saves an ir.attachment (invoice PDF, image…) as a local file; returns its path. Never overwrites. Two calls.',
      toolset: 'records',
      input: {
        id: z.number().int().min(1).max(2_147_483_647).describe('ir.attachment id.'),
        folder: z.string().max(1024).optional().describe('Allowed folder; default ~/Downloads/odoo-mcp.'),
      },
      // It writes to local disk, so --read-only leaves it out; it never overwrites, so it destroys nothing.
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
      handler: async ({ id, folder }, { signal }) => {
        const saved = await saveAttachment(client, files, { id, folder }, signal);
        return {
          text: `Saved attachment #${saved.id} ${untrusted(saved.name, 200)} (${saved.mimetype ?? 'unknown type'}, ${saved.bytes} bytes) to ${saved.path}`,
        };
      },
    }),
  ];
}
