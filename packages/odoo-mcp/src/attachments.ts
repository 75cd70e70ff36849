/**
 * Files kept in Odoo: `ir.attachment` records, which also hold every Binary field stored "as attachment" (the
 * default; `res_model`/`res_field`/`res_id` name the record and field). Tools read their size and type; the
 * content is fetched only to be saved under an allowed local folder, never into a model's context.
 */
import { Readable } from 'node:stream';
import {
  NotFoundError,
  UserInputError,
  formatBytes,
  safeFileName,
  untrusted,
  type LocalFiles,
} from '@switchyard/core';
import type { OdooClient } from './odoo-client.js';

/** The largest file saved: its base64 travels in one JSON answer, held in memory while it is decoded. */
export const MAX_SAVE_BYTES = 50 * 1024 * 1024;

export interface FieldFile {
  attachment: number;
  mimetype: string | undefined;
  size: number;
}

/**
 * The attachments behind Binary fields of one record: `res_field` named in the domain, because ir.attachment's
 * `_search` otherwise leaves those attachments out (odoo/addons/base/models/ir_attachment.py). Best effort: a
 * user who may not read them simply gets sizes without type.
 */
export async function fieldFiles(
  client: OdooClient,
  model: string,
  id: number,
  fields: string[],
  signal?: AbortSignal,
): Promise<Map<string, FieldFile>> {
  const found = new Map<string, FieldFile>();
  if (fields.length === 0) return found;
  try {
    const rows = await client.call<Array<Record<string, unknown>>>(
      'ir.attachment',
      'search_read',
      {
        domain: [
          ['res_model', '=', model],
          ['res_field', 'in', fields],
          ['res_id', '=', id],
        ],
        fields: ['res_field', 'mimetype', 'file_size'],
        limit: fields.length,
      },
      { signal },
    );
    for (const row of rows) {
      found.set(String(row.res_field), {
        attachment: Number(row.id),
        mimetype: typeof row.mimetype === 'string' ? row.mimetype : undefined,
        size: Number(row.file_size ?? 0),
      });
    }
  } catch {
    // Sizes are still shown; the type and attachment id are a bonus.
  }
  return found;
}

export interface SavedAttachment {
  id: number;
  name: string;
  mimetype: string | undefined;
  path: string;
  bytes: number;
}

/**
 * Save one attachment's content as a local file: the folder is checked against the allowed roots before Odoo is
 * asked for anything, the size before the content, and the file is never overwritten.
 */
export async function saveAttachment(
  client: OdooClient,
  files: LocalFiles,
  args: { id: number; folder?: string | undefined },
  signal?: AbortSignal,
): Promise<SavedAttachment> {
  const dir = await files.folder(args.folder);
  const [meta] = await client.call<Array<Record<string, unknown>>>(
    'ir.attachment',
    'read',
    { ids: [args.id], fields: ['name', 'type', 'url', 'mimetype', 'file_size'] },
    { signal },
  );
  if (!meta) {
    throw new NotFoundError(`ir.attachment has no record with id ${args.id}`, {
      hint: 'Find attachments with odoo_search_records on ir.attachment (e.g. domain [["res_model","=","account.move"],["res_id","=",7]])',
    });
  }
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (meta.type === 'url') {
    throw new UserInputError(
      `Attachment #${args.id} ${untrusted(name, 120)} is a link to ${untrusted(String(meta.url || '?'), 300)}, not a file stored in Odoo, so there is nothing to save`,
      { hint: 'Open the link itself if it is needed' },
    );
  }
  const size = Number(meta.file_size ?? 0);
  if (size > MAX_SAVE_BYTES) {
    throw new UserInputError(
      `Attachment #${args.id} is ${formatBytes(size)}, more than the ${formatBytes(MAX_SAVE_BYTES)} odoo-mcp saves (its content travels base64-encoded in one answer)`,
      { hint: 'Download it from Odoo’s web interface instead' },
    );
  }
  // The content itself: the one call made without bin_size.
  const [full] = await client.call<Array<{ datas?: unknown }>>(
    'ir.attachment',
    'read',
    { ids: [args.id], fields: ['datas'] },
    { signal, context: { bin_size: false } },
  );
  const bytes = Buffer.from(typeof full?.datas === 'string' ? full.datas : '', 'base64');
  const target = safeFileName(name, `attachment-${args.id}`);
  const saved = await files.save(Readable.from([bytes]), dir, target);
  return {
    id: args.id,
    name,
    mimetype: typeof meta.mimetype === 'string' ? meta.mimetype : undefined,
    path: saved.path,
    bytes: saved.bytes,
  };
}
