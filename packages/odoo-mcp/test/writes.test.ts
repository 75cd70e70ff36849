// The write toolset on both protocols: created, updated and deleted records really change in the fake;
// values are checked against fields_get before anything is sent; Odoo's refusals come back as sentences.
import { describe, expect, it } from 'vitest';
import { PROTOCOLS, hostEnv, spawnOdoo, withWorld } from './helpers.js';

describe.each(PROTOCOLS)('write tools over $protocol (Odoo $version)', ({ version, protocol }) => {
  const writes = () =>
    t.world.orm.calls.filter((c) => ['create', 'write', 'unlink'].includes(c.method)).length;

  const t = withWorld({
    version,
    server: { args: ['--allow-writes'] },
  });

  it('creates, updates and deletes a record', async () => {
    const created = await t.server.call('odoo_create_record', {
      model: 'res.partner',
      values: {
        name: 'New Robotics',
        is_company: true,
        country_id: 1,
        child_ids: [[0, 0, { name: 'Jane Roe' }]],
      },
    });
    expect(created.isError).toBe(false);
    expect(created.text).toBe('Created res.partner «New Robotics #18».');
    expect(created.structured).toEqual({ id: 18, name: 'New Robotics #18' });
    expect(t.world.orm.table('res.partner').get(18)).toMatchObject({
      name: 'New Robotics',
      is_company: true,
      country_id: 1,
    });
    expect([...t.world.orm.table('res.partner').values()].find((p) => p.name === 'Jane Roe')).toMatchObject({
      parent_id: 18,
    });

    const updated = await t.server.call('odoo_update_record', {
      model: 'res.partner',
      ids: [18],
      values: { city: 'Mons', comment: '<p>Key account</p>' },
    });
    expect(updated.text).toBe('Updated 1 res.partner record: «New Robotics #18» (set city, comment).');
    expect(updated.structured).toEqual({ ids: [18], fields: ['city', 'comment'] });
    expect(t.world.orm.table('res.partner').get(18)).toMatchObject({ city: 'Mons' });

    const deleted = await t.server.call('odoo_delete_record', { model: 'res.partner', ids: [18] });
    expect(deleted.text).toBe('Deleted 1 res.partner record: «New Robotics #18».');
    expect(t.world.orm.table('res.partner').has(18)).toBe(false);
  });

  it('writes datetimes given in the user time zone as UTC, and many2many ids as a set command', async () => {
    const call = await t.server.call('odoo_update_record', {
      model: 'sale.order',
      ids: [32],
      values: { date_order: '2025-01-15 10:00', client_order_ref: 'PO-77' },
    });
    expect(call.text).toBe('Updated 1 sale.order record: «S00032 #32» (set date_order, client_order_ref).');
    // Brussels is UTC+1 in January.
    expect(t.world.orm.table('sale.order').get(32)).toMatchObject({
      date_order: '2025-01-15 09:00:00',
      client_order_ref: 'PO-77',
    });
    const groups = t.world.major >= 19 ? 'group_ids' : 'groups_id';
    const users = await t.server.call('odoo_update_record', {
      model: 'res.users',
      ids: [7],
      values: { [groups]: [1, 2, 3] },
    });
    expect(users.isError).toBe(false);
    const sent = t.world.orm.calls.filter((c) => c.method === 'write').at(-1)!;
    expect(sent.args).toMatchObject({ ids: [7], vals: { [groups]: [[6, 0, [1, 2, 3]]] } });
    expect(t.world.orm.table('res.users').get(7)![groups]).toEqual([1, 2, 3]);
  });

  it('refuses unknown, read-only and mistyped values before sending anything', async () => {
    const before = writes();
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [
        'res.partner',
        { citty: 'Mons' },
        "In values, res.partner has no field 'citty'. Close matches: city. Call odoo_describe_model with model 'res.partner' to see its fields.",
      ],
      ['sale.order', { state: 'sale' }, 'sale.order.state (Status) is read-only, so it cannot be written.'],
      [
        'res.partner',
        { is_company: 'yes' },
        'res.partner.is_company is a boolean field; "yes" is not true or false.',
      ],
      [
        'res.partner',
        { country_id: 'Belgium' },
        'res.partner.country_id is a many2one field; "Belgium" is not the id of a res.country record.',
      ],
      [
        'account.move',
        { move_type: 'invoice' },
        'account.move.move_type takes one of entry, out_invoice, out_refund, in_invoice, in_refund; "invoice" is not one of them.',
      ],
      ['res.partner', { name: false }, 'res.partner.name (Name) is required and cannot be emptied.'],
      [
        'res.partner',
        { write_date: '2025-01-01' },
        'res.partner.write_date is set by Odoo and cannot be written.',
      ],
      ['res.partner', {}, 'values is empty: give at least one field to set.'],
    ];
    for (const [model, values, text] of cases) {
      const call = await t.server.call('odoo_update_record', { model, ids: [10], values });
      expect(call.isError).toBe(true);
      expect(call.text).toBe(text);
    }
    expect(writes()).toBe(before);
  });

  it("answers Odoo's own refusals: a missing record, a record others depend on, a missing right", async () => {
    const missing = await t.server.call('odoo_update_record', {
      model: 'res.partner',
      ids: [9999],
      values: { city: 'X' },
    });
    expect(missing.text).toBe(
      'res.partner has no record with id 9999 (it does not exist, was deleted, or is archived out of reach). Use odoo_search_records to find the ids that exist.',
    );
    const needed = await t.server.call('odoo_delete_record', { model: 'res.partner', ids: [10] });
    expect(needed.text).toBe(
      'Odoo refused res.partner.unlink: «The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.»',
    );
    expect(t.world.orm.table('res.partner').has(10)).toBe(true);
    const invalid = await t.server.call('odoo_create_record', {
      model: 'hr.department',
      values: { parent_id: 1 },
    });
    expect(invalid.text).toBe(
      'Odoo refused hr.department.create: «The operation cannot be completed: Missing required fields on Department: Department Name». Change the values as the message says and try again.',
    );
    const sales = await spawnOdoo(t.world, { who: 'sales', args: ['--allow-writes'] });
    try {
      const denied = await sales.call('odoo_delete_record', { model: 'sale.order', ids: [32] });
      expect(denied.text).toBe(
        "Odoo denied delete access to sale.order: this user lacks the model access right (ir.model.access) to delete that model; Odoo said «You are not allowed to delete 'Sales Order' (sale.order) records». It is granted to: «Administration / Settings». An Odoo administrator can add this user to one of those groups (Settings → Users → the user → Access Rights), or use the API key of a user who has the right.",
      );
    } finally {
      await sales.close();
    }
    expect(t.world.orm.table('sale.order').has(32)).toBe(true);
  });

  it('never retries a write, and says a cancelled write may still have happened', async () => {
    const path = protocol === 'json2' ? '/json/2/res.partner/create' : '/jsonrpc';
    await t.server.call('odoo_count_records', { model: 'res.partner' });
    const before = t.world.service.requestsTo(path, 'POST').length;
    t.world.service.inject({ path, status: 503, body: 'Service Unavailable', times: 1 });
    const failed = await t.server.call('odoo_create_record', {
      model: 'res.partner',
      values: { name: 'Once Only' },
    });
    expect(failed.text).toBe(
      'Odoo failed on its side (HTTP 503) while running res.partner.create: «Service Unavailable». The change may have been made all the same: check the records (odoo_search_records) before trying again; if it keeps failing, an Odoo administrator can find the traceback in the Odoo server log.',
    );
    expect(t.world.service.requestsTo(path, 'POST').length).toBe(before + 1);
    expect([...t.world.orm.table('res.partner').values()].some((p) => p.name === 'Once Only')).toBe(false);

    t.world.service.inject({ path, delayMs: 1500 });
    const controller = new AbortController();
    const sent = t.world.service.requestsTo(path, 'POST').length;
    const pending = t.server.call(
      'odoo_create_record',
      { model: 'res.partner', values: { name: 'Late Partner' } },
      { signal: controller.signal },
    );
    // Cancel once the create has reached Odoo.
    await expect.poll(() => t.world.service.requestsTo(path, 'POST').length).toBeGreaterThan(sent);
    controller.abort('user cancelled');
    await expect(pending).rejects.toThrow();
    await expect
      .poll(() => t.server.stderr())
      .toContain(
        'The call was cancelled while Odoo was running res.partner.create; Odoo may still have applied the change, so check the records before trying again.',
      );
    // Odoo finished the request it had received: the message above is the truth.
    await expect
      .poll(() => [...t.world.orm.table('res.partner').values()].some((p) => p.name === 'Late Partner'))
      .toBe(true);
  });
});

// Odoo writes ask the user first through the host's elicitation (core's confirmations), in both protocol eras:
// the record and the fields; a decline changes nothing and is an ordinary answer.
describe.each(['legacy', 'modern'] as const)('write confirmations, %s era', (era) => {
  const asked: string[] = [];
  let next: { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, boolean> } = {
    action: 'decline',
  };
  const t = withWorld({ version: '19.0', server: false });
  const start = () =>
    t.spawn({
      args: ['--allow-writes'],
      env: hostEnv(t.world),
      era,
      elicit: async ({ message }) => {
        asked.push(message);
        return next;
      },
    });
  const writes = () =>
    t.world.orm.calls.filter((c) => ['create', 'write', 'unlink'].includes(c.method)).length;

  it('shows the record and the fields, and writes nothing when the user declines', async () => {
    const server = await start();
    next = { action: 'decline' };
    const before = writes();
    const created = await server.call('odoo_create_record', {
      model: 'res.partner',
      values: { name: 'New Robotics', is_company: true },
    });
    expect(created).toMatchObject({
      isError: false,
      text: 'Not created: the user declined. No res.partner record was made.',
      structured: {},
    });
    const updated = await server.call('odoo_update_record', {
      model: 'res.partner',
      ids: [10],
      values: { city: 'Mons' },
    });
    expect(updated.structured).toEqual({ ids: [], fields: [] });
    const deleted = await server.call('odoo_delete_record', { model: 'res.partner', ids: [10] });
    expect(deleted).toMatchObject({ isError: false, structured: { ids: [] } });
    expect(writes()).toBe(before);
    expect(asked).toHaveLength(3);
    expect(asked[0]).toBe(
      'Create a res.partner record in Odoo with:\nname: "New Robotics"\nis_company: true',
    );
    expect(asked[1]).toMatch(/^Overwrite in Odoo, on 1 res\.partner record: \S.*:\ncity: "Mons"$/);
    expect(asked[2]).toMatch(/^Delete for good, in Odoo, 1 res\.partner record: \S.*\?$/);
  });

  it('writes once the user accepts', async () => {
    const server = await start();
    next = { action: 'accept', content: { confirm: true } };
    const created = await server.call('odoo_create_record', {
      model: 'res.partner',
      values: { name: 'Accepted Co' },
    });
    expect(created.isError).toBe(false);
    expect(created.text).toMatch(/^Created res\.partner «Accepted Co #\d+»\.$/);
  });
});
