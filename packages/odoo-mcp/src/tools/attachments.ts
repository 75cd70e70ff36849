import { defineTool, untrusted, z } from '@switchyard/core';
import { saveAttachment } from '../attachments.js';
import type { OdooDeps } from './common.js';

export function attachmentTools({ client, files }: OdooDeps) {
  return [
    defineTool({
      name: 'odoo_save_attachment',
      title: 'Save an Odoo attachment',
      description:
        'Saves an attachment (ir.attachment id, e.g. an invoice PDF or the file behind an image field) as a local file; returns the path, never the content. Never overwrites. Two calls.',
      toolset: 'records',
      input: {
        id: z.number().int().min(1).max(2_147_483_647).describe('The ir.attachment id.'),
        folder: z
          .string()
          .max(1024)
          .optional()
          .describe('Local folder under an allowed root; default ~/Downloads/odoo-mcp.'),
        save_as: z.string().max(255).optional().describe('Local file name; default the attachment name.'),
      },
      // It writes to local disk, so --read-only leaves it out; it never overwrites, so it destroys nothing.
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
      handler: async ({ id, folder, save_as }, { signal }) => {
        const saved = await saveAttachment(client, files, { id, folder, saveAs: save_as }, signal);
        return {
          text: `Saved attachment #${saved.id} ${untrusted(saved.name, 200)} (${saved.mimetype ?? 'unknown type'}, ${saved.bytes} bytes) to ${saved.path}`,
        };
      },
    }),
  ];
}
