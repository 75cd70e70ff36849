// Binary fields and attachments on every version: reads ask Odoo for sizes (`bin_size`), never base64 content;
// the type and size show instead of the bytes; odoo_save_attachment saves a file under an allowed folder only,
// and --read-only serves no such tool.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INVOICE_PDF, LOGO_PNG } from './fake/company.js';
import { FakeOdoo } from './fake/odoo.js';
import { fenced, spawnOdoo, withWorld } from './helpers.js';

const VERSIONS = ['17.0', '18.0', '19.0', 'saas~19.1', '20.0'];

/** The context every read call sent to the fake Odoo. */
function readContexts(fake: FakeOdoo): Array<Record<string, unknown>> {
  return fake.orm.calls
    .filter((c) => c.method === 'read' || c.method === 'search_read')
    .map((c) => c.args.context as Record<string, unknown>);
}

describe.each(VERSIONS)('binary fields and attachments on Odoo %s', (version) => {
  const t = withWorld({
    version,
    deprecatedRpc: true,
    folders: ['saved'],
    server: ({ dirs }) => ({ env: { ODOO_ALLOWED_DIRS: dirs.saved } }),
  });

  it('lists attachments with name, type and size, never their content, and asks Odoo for sizes', async () => {
    const call = await t.server.call('odoo_search_records', { model: 'ir.attachment' });
    expect(call.isError).toBe(false);
    const csv = fenced(call.text);
    expect(csv.split('\n')[0]).toBe('id,name,mimetype,file_size,res_model,res_id,type,create_date');
    expect(csv).toContain(
      `41,INV_2025_0001.pdf,application/pdf,${INVOICE_PDF.length},account.move,1,binary,`,
    );
    // ir.attachment's own _search leaves out the attachments behind Binary fields (res_field set).
    expect(csv).not.toContain('image_1920');
    expect(call.structured).toMatchObject({ total: 2 });
    expect(readContexts(t.world).every((c) => c.bin_size === true)).toBe(true);
  });

  it('reads datas, when asked for by name, as its size', async () => {
    const call = await t.server.call('odoo_search_records', {
      model: 'ir.attachment',
      fields: ['name', 'datas'],
      domain: [['id', '=', 41]],
    });
    expect(fenced(call.text)).toBe(
      `id,name,datas\n41,INV_2025_0001.pdf,"(file, ${(INVOICE_PDF.length / 1024).toFixed(2)} Kb)"`,
    );
    expect(call.text).not.toContain(INVOICE_PDF.toString('base64').slice(0, 40));
  });

  it("shows a record's image field as type, size and the attachment holding it", async () => {
    const call = await t.server.call('odoo_get_record', {
      model: 'res.partner',
      id: 10,
      fields: ['name', 'image_1920'],
    });
    expect(call.isError).toBe(false);
    expect(fenced(call.text)).toContain(
      `image_1920,"(image/png, ${(LOGO_PNG.length / 1024).toFixed(2)} Kb; attachment #42, odoo_save_attachment saves it)"`,
    );
    expect(Buffer.byteLength(call.text)).toBeLessThan(1024);
  });

  it('saves an attachment under an allowed folder, never overwriting', async () => {
    const first = await t.server.call('odoo_save_attachment', { id: 41, folder: t.dirs.saved });
    expect(first.text).toBe(
      `Saved attachment #41 «INV_2025_0001.pdf» (application/pdf, ${INVOICE_PDF.length} bytes) to ${join(t.dirs.saved, 'INV_2025_0001.pdf')}`,
    );
    expect(readFileSync(join(t.dirs.saved, 'INV_2025_0001.pdf')).equals(INVOICE_PDF)).toBe(true);
    // The file behind res.partner's image_1920, named as Odoo names it (the field's name).
    const again = await t.server.call('odoo_save_attachment', { id: 42, folder: t.dirs.saved });
    expect(again.isError).toBe(false);
    expect(readFileSync(join(t.dirs.saved, 'image_1920')).equals(LOGO_PNG)).toBe(true);
    const twice = await t.server.call('odoo_save_attachment', { id: 41, folder: t.dirs.saved });
    expect(twice.text).toContain(join(t.dirs.saved, 'INV_2025_0001 (1).pdf'));
    // The content was asked for only by the save, with bin_size switched off for that one call.
    const contentReads = t.world.orm.calls.filter(
      (c) => c.model === 'ir.attachment' && (c.args.context as Record<string, unknown>).bin_size === false,
    );
    expect(contentReads.map((c) => c.args.fields)).toEqual([['datas'], ['datas'], ['datas']]);
  });

  it('refuses a folder outside the allowed ones before asking Odoo anything', async () => {
    const before = t.world.orm.calls.length;
    const call = await t.server.call('odoo_save_attachment', { id: 41, folder: '/etc' });
    expect(call.isError).toBe(true);
    expect(call.text).toContain("'/etc' is outside the allowed folders: odoo-mcp saves files only under");
    expect(t.world.orm.calls.length).toBe(before);
  });

  it('says plainly that a link attachment has nothing to save, and that an unknown id does not exist', async () => {
    const link = await t.server.call('odoo_save_attachment', { id: 43, folder: t.dirs.saved });
    expect(link.text).toBe(
      'Attachment #43 «Price list (online)» is a link to «https://acme.example/price-list», not a file stored in Odoo, so there is nothing to save. Open the link itself if it is needed.',
    );
    const missing = await t.server.call('odoo_save_attachment', { id: 999, folder: t.dirs.saved });
    expect(missing.isError).toBe(true);
    expect(missing.text).toContain('ir.attachment has no record with id 999');
    expect(readdirSync(t.dirs.saved).sort()).toEqual([
      'INV_2025_0001 (1).pdf',
      'INV_2025_0001.pdf',
      'image_1920',
    ]);
  });
});

describe('odoo_save_attachment and --read-only', () => {
  it('is not served in read-only mode, since it writes to local disk', async () => {
    const fake = await FakeOdoo.start({ version: '19.0' });
    try {
      const server = await spawnOdoo(fake, { args: ['--read-only'] });
      try {
        const names = (await server.client.listTools()).tools.map((t) => t.name);
        expect(names).toContain('odoo_search_records');
        expect(names).not.toContain('odoo_save_attachment');
      } finally {
        await server.close();
      }
    } finally {
      await fake.close();
    }
  });

  it('refuses a file larger than it saves, before fetching the content', async () => {
    const fake = await FakeOdoo.start({ version: '18.0' });
    const folder = mkdtempSync(join(tmpdir(), 'odoo-big-'));
    fake.orm.table('ir.attachment').get(41)!.file_size = 80 * 1024 * 1024;
    try {
      const server = await spawnOdoo(fake, { env: { ODOO_ALLOWED_DIRS: folder } });
      try {
        const call = await server.call('odoo_save_attachment', { id: 41, folder });
        expect(call.text).toBe(
          'Attachment #41 is 80 MB, more than the 50 MB odoo-mcp saves (its content travels base64-encoded in one answer). Download it from Odoo’s web interface instead.',
        );
        expect(readdirSync(folder)).toEqual([]);
        expect(fake.orm.calls.some((c) => JSON.stringify(c.args.fields) === '["datas"]')).toBe(false);
      } finally {
        await server.close();
      }
    } finally {
      await fake.close();
    }
  });
});
