// Shared mailboxes and delegated calendars through the built server (issue 17, item 3): with --shared-mailboxes the
// mail and calendar tools take a `mailbox` and work in /users/{address}/…, as the fake Graph serves it with
// per-mailbox rights (Full Access, Send As, Send on Behalf, calendar delegation); each refusal gets its sentence.
import { describe, expect, it } from 'vitest';
import { cursorOf, spawnServer } from '@switchyard/testkit';
import type { FakeMessage, Mailbox } from './fake/graph.js';
import { ALICE, bin, folders, hostEnv, login, signedInServer, withWorld } from './helpers.js';

const SALES = 'sales@contoso.com';
const BOSS = 'boss@contoso.com';
const BOB = 'bob@contoso.com';
const SHARED = ['--shared-mailboxes'];

let sales: Mailbox;
let offer: FakeMessage;

const rows = (text: string) => text.split('\n').slice(3, -2);
/** The last device-code request's scopes, without MSAL's OIDC ones. */
function requestedScopes(): string[] {
  const req = t.world.authority.service.requestsTo(/\/oauth2\/v2\.0\/devicecode$/, 'POST').at(-1)!;
  return (new URLSearchParams(req.body).get('scope') ?? '')
    .split(' ')
    .filter((s) => !['openid', 'profile', 'offline_access'].includes(s));
}

const t = withWorld({
  seed: (world) => {
    world.authority.addUser({ username: BOSS, name: 'Bea Boss' });
    world.authority.addUser({ username: BOB, name: 'Bob Builder' });
    world.graph.mailbox(ALICE).add({ subject: 'Alice’s own mail' });
    world.graph.mailbox(BOB); // delivery reaches mailboxes the fake holds
    sales = world.graph.addSharedMailbox(SALES, 'Sales Team');
    for (let i = 0; i < 7; i++)
      sales.add({
        subject: `Lead ${i}`,
        from: { name: 'Customer', address: `lead${i}@fabrikam.com` },
        received: Date.parse('2025-03-01T08:00:00Z') + i * 3_600_000,
      });
    offer = sales.add({
      subject: 'Offer request',
      from: { name: 'Carol', address: 'carol@fabrikam.com' },
      received: Date.parse('2025-03-02T08:00:00Z'),
      body: { contentType: 'text', content: 'Please send an offer for 40 seats.' },
      attachments: [
        {
          id: `AAMkAGI2att${'s'.repeat(140)}`,
          name: 'requirements.txt',
          contentType: 'text/plain',
          bytes: Buffer.from('40 seats, 3 years, EU data residency'),
          isInline: false,
        },
      ],
    });
    world.graph.grant(SALES, ALICE, { fullAccess: true, sendAs: true });
    world.graph.grant(BOSS, ALICE, { calendar: 'write' });
    world.graph.addEvent(BOSS, {
      subject: 'Board meeting',
      start: Date.parse('2025-03-04T09:00:00Z'),
      end: Date.parse('2025-03-04T11:00:00Z'),
    });
    world.graph.addEvent(ALICE, {
      subject: 'Alice’s dentist',
      start: Date.parse('2025-03-04T13:00:00Z'),
      end: Date.parse('2025-03-04T14:00:00Z'),
    });
  },
  server: { args: SHARED },
});

describe('a shared mailbox', () => {
  it('asks for the .Shared scopes at login', () => {
    expect(requestedScopes()).toEqual([
      'User.Read',
      'Mail.ReadWrite',
      'Mail.ReadWrite.Shared',
      'Mail.Send',
      'Mail.Send.Shared',
      'Calendars.ReadWrite',
      'Calendars.ReadWrite.Shared',
      'Calendars.Read.Shared',
      'Files.ReadWrite.All',
      'Sites.Read.All',
    ]);
  });

  it('lists its mail through /users/{address}/messages, and the cursor keeps the mailbox', async () => {
    const first = await t.server.call('ms365_list_messages', { mailbox: SALES, top: 3 });
    expect(first.isError, first.text).toBe(false);
    expect(first.text.split('\n')[0]).toMatch(/^sales@contoso\.com: /);
    expect(first.text).toContain('Offer request');
    expect(first.text).not.toContain('Alice’s own mail');
    const paths = t.world.graph.service.requests.map((r) => r.path);
    expect(paths).toContain('/v1.0/users/sales@contoso.com/mailFolders/inbox/messages');
    // The cursor alone resumes in the shared mailbox, and gives what one big page gives.
    const all = rows(first.text);
    let cursor = cursorOf(first.text);
    expect(cursor).toBeDefined();
    while (cursor) {
      const next = await t.server.call('ms365_list_messages', { cursor });
      expect(next.isError, next.text).toBe(false);
      expect(next.text.split('\n')[0]).toMatch(/^sales@contoso\.com: /);
      all.push(...rows(next.text));
      cursor = cursorOf(next.text);
    }
    const big = await t.server.call('ms365_list_messages', { mailbox: SALES, top: 50 });
    expect(all).toEqual(rows(big.text));
    expect(all).toHaveLength(8);
    // Changing the mailbox beside a cursor is refused.
    const moved = await t.server.call('ms365_list_messages', {
      cursor: cursorOf(first.text),
      mailbox: ALICE,
    });
    expect(moved.text).toBe(
      `This next_cursor continues a listing made with mailbox "${SALES}", not "${ALICE}". Pass the cursor alone to go on, or leave it out to start a new listing.`,
    );
  });

  it('reads a message and an attachment as text', async () => {
    const msg = await t.server.call('ms365_get_message', { mailbox: SALES, id: offer.id });
    expect(msg.isError, msg.text).toBe(false);
    expect(msg.text).toContain('Please send an offer for 40 seats.');
    expect(msg.text).toContain('requirements.txt');
    const att = await t.server.call('ms365_get_message', {
      mailbox: SALES,
      id: offer.id,
      attachment_id: offer.attachments[0]!.id,
    });
    expect(att.isError, att.text).toBe(false);
    expect(att.text).toContain('40 seats, 3 years, EU data residency');
    const gets = t.world.graph.service.requests.filter((r) => r.path.includes(offer.attachments[0]!.id));
    expect(gets.length).toBeGreaterThan(0);
    for (const r of gets) expect(r.path.startsWith(`/v1.0/users/${SALES}/messages/`)).toBe(true);
  });

  it('sends from it: /users/{address}/sendMail, kept in its Sent Items, from the shared address', async () => {
    const before = t.world.graph.service.requests.length;
    const sent = await t.server.call('ms365_send_mail', {
      mailbox: SALES,
      to: [BOB],
      subject: 'Your offer',
      body: '40 seats at the list price.',
    });
    expect(sent.isError, sent.text).toBe(false);
    const req = t.world.graph.service.requests
      .slice(before)
      .find((r) => r.method === 'POST' && r.path.endsWith('/sendMail'))!;
    expect(req.path).toBe(`/v1.0/users/${SALES}/sendMail`);
    // user-sendmail: { message, saveToSentItems }; Graph takes `from` from the mailbox in the URL.
    expect(JSON.parse(req.body)).toEqual({
      message: {
        subject: 'Your offer',
        body: { contentType: 'Text', content: '40 seats at the list price.' },
        toRecipients: [{ emailAddress: { address: BOB } }],
      },
      saveToSentItems: true,
    });
    const kept = sales.inFolder('sentitems').find((m) => m.subject === 'Your offer');
    expect(kept?.from.address).toBe(SALES);
    // Send As: nothing tells that Alice sent it.
    expect(kept?.sender).toBeUndefined();
    expect(
      t.world.graph
        .mailbox(ALICE)
        .inFolder('sentitems')
        .some((m) => m.subject === 'Your offer'),
    ).toBe(false);
    const got = t.world.graph
      .mailbox(BOB)
      .inFolder('inbox')
      .find((m) => m.subject === 'Your offer');
    expect(got?.from.address).toBe(SALES);
  });

  it('with Send on Behalf only, the sent mail names Alice as sender', async () => {
    t.world.graph.grant(SALES, ALICE, { fullAccess: true, sendOnBehalf: true });
    try {
      const sent = await t.server.call('ms365_send_mail', {
        mailbox: SALES,
        to: [BOB],
        subject: 'On behalf',
      });
      expect(sent.isError, sent.text).toBe(false);
      const kept = sales.inFolder('sentitems').find((m) => m.subject === 'On behalf');
      expect(kept?.from.address).toBe(SALES);
      expect(kept?.sender?.address).toBe(ALICE);
    } finally {
      t.world.graph.grant(SALES, ALICE, { fullAccess: true, sendAs: true });
    }
  });
});

describe('the other mail tools in a shared mailbox', () => {
  it('replies, saves an attachment and moves a message there', async () => {
    const lead = sales.inFolder('inbox').find((m) => m.subject === 'Lead 0')!;
    const reply = await t.server.call('ms365_reply', { mailbox: SALES, id: lead.id, comment: 'Thanks!' });
    expect(reply.isError, reply.text).toBe(false);
    const replied = sales.inFolder('sentitems').find((m) => m.subject === 'RE: Lead 0');
    expect(replied?.to.map((r) => r.address)).toEqual(['lead0@fabrikam.com']);
    expect(replied?.from.address).toBe(SALES);

    const saved = await t.server.call('ms365_download_attachment', {
      mailbox: SALES,
      message_id: offer.id,
      attachment_id: offer.attachments[0]!.id,
    });
    expect(saved.isError, saved.text).toBe(false);
    expect(saved.text).toMatch(/^Saved «requirements\.txt» \(36 B\) to /);

    const moved = await t.server.call('ms365_move_message', {
      mailbox: SALES,
      ids: [lead.id],
      folder: 'archive',
    });
    expect(moved.isError, moved.text).toBe(false);
    expect(sales.inFolder('archive').map((m) => m.subject)).toEqual(['Lead 0']);
    const paths = t.world.graph.service.requests.filter((r) => r.method === 'POST').map((r) => r.path);
    expect(paths.some((p) => p.startsWith(`/v1.0/users/${SALES}/messages/`) && p.endsWith('/move'))).toBe(
      true,
    );
  });
});

describe('a delegated calendar', () => {
  it('lists the delegator’s events, creates one in their calendar, changes and cancels it', async () => {
    const list = await t.server.call('ms365_list_events', {
      mailbox: BOSS,
      start: '2025-03-03',
      end: '2025-03-06',
      time_zone: 'UTC',
    });
    expect(list.isError, list.text).toBe(false);
    expect(list.text.split('\n')[0]).toMatch(/^boss@contoso\.com: /);
    expect(list.text).toContain('Board meeting');
    expect(list.text).not.toContain('dentist');
    const created = await t.server.call('ms365_create_event', {
      mailbox: BOSS,
      subject: 'Budget review',
      start: '2025-03-05T10:00',
      end: '2025-03-05T11:00',
      time_zone: 'UTC',
    });
    expect(created.isError, created.text).toBe(false);
    const id = /id: (\S+)$/.exec(created.text)![1]!;
    const event = t.world.graph.events.get(id)!;
    expect(event.owner).toBe(BOSS);
    const post = t.world.graph.service.requests
      .filter((r) => r.method === 'POST' && r.path.endsWith('/events'))
      .at(-1)!;
    expect(post.path).toBe(`/v1.0/users/${BOSS}/events`);
    const updated = await t.server.call('ms365_update_event', { mailbox: BOSS, id, location: 'Room 7' });
    expect(updated.isError, updated.text).toBe(false);
    expect(t.world.graph.events.get(id)!.location).toBe('Room 7');
    const cancelled = await t.server.call('ms365_cancel_event', { mailbox: BOSS, id });
    expect(cancelled.isError, cancelled.text).toBe(false);
    expect(t.world.graph.events.has(id)).toBe(false);
  });
});

describe('refusals', () => {
  it('says which right is missing for each kind of call', async () => {
    t.world.graph.addSharedMailbox('support@contoso.com', 'Support');
    const read = await t.server.call('ms365_list_messages', { mailbox: 'support@contoso.com' });
    expect(read.isError).toBe(true);
    expect(read.text).toMatch(
      /^Microsoft Graph refused access to the mailbox support@contoso\.com: the signed-in user needs Full Access permission on it, or permission on the folder \(given by an Exchange admin or the owner in Outlook\)\. Upstream said: Microsoft Graph 403 ErrorAccessDenied: «Access is denied\. Check credentials and try again\.» \(request id [0-9a-f-]{36}\)\. Check the address, and that the app was granted the \.Shared permissions/,
    );

    t.world.graph.grant(SALES, ALICE, { fullAccess: true });
    try {
      const send = await t.server.call('ms365_send_mail', { mailbox: SALES, to: [BOB], subject: 'No right' });
      expect(send.text).toMatch(
        /^Microsoft Graph refused access to the mailbox sales@contoso\.com: the signed-in user needs Send As or Send on Behalf permission on it \(given by an Exchange admin\)\. Upstream said: Microsoft Graph 403 ErrorSendAsDenied: «The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account\. Cannot submit message\.»/,
      );
      expect(sales.inFolder('sentitems').some((m) => m.subject === 'No right')).toBe(false);
    } finally {
      t.world.graph.grant(SALES, ALICE, { fullAccess: true, sendAs: true });
    }

    const noFullAccess = await t.server.call('ms365_send_mail', {
      mailbox: 'support@contoso.com',
      to: [BOB],
      subject: 'x',
    });
    expect(noFullAccess.text).toMatch(
      /^Microsoft Graph refused access to the mailbox support@contoso\.com: the signed-in user needs Full Access and Send As \(or Send on Behalf\) permission on it \(given by an Exchange admin\)\./,
    );

    const calendar = await t.server.call('ms365_list_events', { mailbox: BOB });
    expect(calendar.text).toMatch(
      /^Microsoft Graph refused access to the mailbox bob@contoso\.com: the signed-in user needs a delegate or share permission on its calendar \(Outlook: Calendar → Share or Delegate access\)\./,
    );
    t.world.graph.grant(BOB, ALICE, { calendar: 'read' });
    expect((await t.server.call('ms365_list_events', { mailbox: BOB })).isError).toBe(false);
    const write = await t.server.call('ms365_create_event', {
      mailbox: BOB,
      subject: 'x',
      start: '2025-03-05T10:00',
      end: '2025-03-05T11:00',
    });
    expect(write.text).toMatch(
      /^Microsoft Graph refused access to the mailbox bob@contoso\.com: the signed-in user needs a delegate or share permission on its calendar/,
    );
  });

  it('names an address that is no mailbox, and refuses one that is no address before calling', async () => {
    const unknown = await t.server.call('ms365_list_messages', { mailbox: 'nobody@contoso.com' });
    expect(unknown.text).toMatch(
      /^No mailbox has the address nobody@contoso\.com\. Upstream said: Microsoft Graph 404 ErrorInvalidUser: «The requested user 'nobody@contoso\.com' is invalid\.» \(request id [0-9a-f-]{36}\)\. Check the spelling of the mailbox address/,
    );
    const before = t.world.graph.service.requests.length;
    const bad = await t.server.call('ms365_list_messages', { mailbox: '../me/drive' });
    expect(bad.text).toBe(
      "mailbox '../me/drive' is not an email address. Give the shared mailbox’s address, e.g. sales@contoso.com.",
    );
    expect(t.world.graph.service.requests.length).toBe(before);
  });

  it('names the .Shared scope a supplied token lacks', async () => {
    const token = t.world.authority.mint({
      username: ALICE,
      scopes: ['User.Read', 'Mail.ReadWrite', 'Mail.Send', 'Calendars.ReadWrite'],
      audience: 'https://graph.microsoft.com',
    });
    const d = folders();
    const s = await spawnServer(bin, {
      configDir: d.configDir,
      dataDir: d.dataDir,
      args: SHARED,
      env: hostEnv(t.world, { MS365_ACCESS_TOKEN: token }),
    });
    try {
      // Its own mailbox needs no .Shared scope.
      expect((await s.call('ms365_list_messages', {})).text).toContain('Alice’s own mail');
      const call = await s.call('ms365_list_messages', { mailbox: SALES });
      expect(call.text).toMatch(
        /^The sign-in has no consent for Mail\.ReadWrite\.Shared, which this call needs\. Upstream said: Microsoft Graph 403 ErrorAccessDenied: «Access is denied\. Check credentials and try again\.» \(request id [0-9a-f-]{36}\)\. Supply a token that carries this scope, or unset MS365_ACCESS_TOKEN and sign in\.$/,
      );
      expect(call.text).not.toContain(token);
    } finally {
      await s.close();
      d.cleanup();
    }
  });
});

describe('a tenant that has not consented to the .Shared scopes', () => {
  it('says so at login, and per call when signed in without them', async () => {
    const CARL = 'carl@contoso.com';
    t.world.authority.addUser({
      username: CARL,
      name: 'Carl',
      consented: [
        'User.Read',
        'Mail.ReadWrite',
        'Mail.Send',
        'Calendars.ReadWrite',
        'Calendars.Read.Shared',
        'Files.ReadWrite.All',
        'Sites.Read.All',
      ],
    });
    t.world.graph.grant(SALES, CARL, { fullAccess: true });
    const d = folders();
    try {
      const refused = await login(t.world, d, { username: CARL, args: SHARED });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        'ms365-mcp: The account has not consented to the scopes Mail.ReadWrite.Shared Mail.Send.Shared Calendars.ReadWrite.Shared for this app (AADSTS65001).',
      );
      // Signed in without the option, then served with it: the own mailbox works, a shared one names the scope.
      const s = await signedInServer(t.world, d, { username: CARL, loginArgs: [], args: SHARED });
      try {
        expect((await s.call('ms365_list_messages', {})).isError).toBe(false);
        const call = await s.call('ms365_list_messages', { mailbox: SALES });
        expect(call.text).toMatch(
          /^The account has not consented to the scopes Mail\.ReadWrite\.Shared for this app \(AADSTS65001\)\./,
        );
      } finally {
        await s.close();
      }
    } finally {
      d.cleanup();
    }
  });
});

describe('without --shared-mailboxes', () => {
  it('offers no mailbox argument and asks for no .Shared scope', async () => {
    const d = folders();
    const s = await signedInServer(t.world, d);
    try {
      expect(requestedScopes().filter((x) => x.endsWith('.Shared'))).toEqual(['Calendars.Read.Shared']);
      for (const tool of (await s.client.listTools()).tools)
        expect(Object.keys(tool.inputSchema.properties ?? {}), tool.name).not.toContain('mailbox');
      const before = t.world.graph.service.requests.length;
      const call = await s.call('ms365_list_messages', { mailbox: SALES });
      expect(call.isError).toBe(true);
      expect(call.text).toContain('mailbox');
      expect(t.world.graph.service.requests.length).toBe(before);
    } finally {
      await s.close();
      d.cleanup();
    }
  });
});
