// Sending, replying, cancelling a meeting and sharing a file ask the user first, through the host's elicitation
// (core's confirmations), in both protocol eras: accept, decline, and a host without elicitation, which sends as
// before. What the user sees names who gets what.
import { beforeAll, describe, expect, it } from 'vitest';
import type { SpawnedServer } from '@switchyard/testkit';
import { ALICE, hostEnv, withWorld } from './helpers.js';

const BOB = 'bob@contoso.com';

const t = withWorld({
  server: false,
  seed: (world) => {
    world.authority.addUser({ username: BOB, name: 'Bob Builder' });
    world.graph.mailbox(BOB); // a mailbox this fake holds, so mail sent to Bob lands in it
    world.graph.drive(ALICE).put('Finance/budget.xlsx', 'cells');
  },
});

type Answer = { action: 'accept' | 'decline' | 'cancel'; content?: Record<string, boolean> };

describe.each(['legacy', 'modern'] as const)('confirmations, %s era', (era) => {
  const asked: string[] = [];
  let next: Answer = { action: 'accept', content: { confirm: true } };
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await t.spawn({
      era,
      env: hostEnv(t.world, { HOME: t.dirs.home }),
      elicit: async ({ message }) => {
        asked.push(message);
        return next;
      },
    });
  });
  const answer = (a: Answer) => {
    next = a;
    asked.length = 0;
  };
  const bobInbox = () => t.world.graph.mailbox(BOB).inFolder('inbox');

  it('shows recipients, subject and first lines before sending, and sends once accepted', async () => {
    answer({ action: 'accept', content: { confirm: true } });
    const subject = `Lunch (${era})`;
    const call = await server.call('ms365_send_mail', {
      to: [BOB],
      subject,
      body: 'See you at noon.\nBring the figures.',
    });
    expect(call.isError).toBe(false);
    expect(asked).toEqual([
      `Send this message?\nFrom: your mailbox\nTo: ${BOB}\nSubject: ${subject}\nSee you at noon.\nBring the figures.`,
    ]);
    expect(bobInbox().some((m) => m.subject === subject)).toBe(true);
  });

  it('sends nothing and says so, not as an error, when the user declines', async () => {
    answer({ action: 'decline' });
    const before = t.world.graph.service.requests.filter((r) => r.method === 'POST').length;
    const subject = `Not this one (${era})`;
    const call = await server.call('ms365_send_mail', { to: [BOB], subject, body: 'x' });
    expect(call).toMatchObject({ isError: false, text: 'Not sent: the user declined. Nothing was sent.' });
    expect(t.world.graph.service.requests.filter((r) => r.method === 'POST')).toHaveLength(before);
    expect(bobInbox().some((m) => m.subject === subject)).toBe(false);
  });

  it('saves a draft without asking', async () => {
    answer({ action: 'decline' });
    const call = await server.call('ms365_send_mail', { to: [BOB], subject: 'Draft', draft: true });
    expect(call.isError).toBe(false);
    expect(asked).toEqual([]);
  });

  it('names the message a reply answers, by subject and sender', async () => {
    const received = t.world.graph
      .mailbox(ALICE)
      .add({ subject: `Budget sign-off (${era})`, from: { name: 'Bob', address: BOB } });
    answer({ action: 'accept', content: { confirm: true } });
    const call = await server.call('ms365_reply', { id: received.id, comment: 'Signed off.' });
    expect(call.isError).toBe(false);
    expect(asked).toEqual([
      `Reply to “Budget sign-off (${era})” from ${BOB}?\nFrom: your mailbox\nSigned off.`,
    ]);
  });

  it("gives a wrong id the tool's own sentence, and asks nothing", async () => {
    answer({ action: 'accept', content: { confirm: true } });
    const reply = await server.call('ms365_reply', { id: 'AAMkNoSuchMessage', comment: 'x' });
    expect(reply.isError).toBe(true);
    expect(reply.text).toMatch(/^No message has id 'AAMkNoSuchMessage' in this mailbox/);
    const cancel = await server.call('ms365_cancel_event', { id: 'AAMkNoSuchEvent' });
    expect(cancel.text).toMatch(/^No event has id 'AAMkNoSuchEvent' in this calendar/);
    // Arguments the tool would refuse are refused before any question.
    const nobody = await server.call('ms365_reply', { id: 'AAMkNoSuchMessage', mode: 'forward' });
    expect(nobody.text).toBe("Forwarding needs 'to' addresses.");
    expect(asked).toEqual([]);
  });

  it('keeps the meeting when the user declines its cancellation', async () => {
    answer({ action: 'accept', content: { confirm: true } });
    const created = await server.call('ms365_create_event', {
      subject: `Offsite (${era})`,
      start: '2025-05-05T09:00',
      end: '2025-05-05T17:00',
      attendees: [BOB],
    });
    const id = /id: (\S+)$/.exec(created.text)![1]!;
    answer({ action: 'decline' });
    const call = await server.call('ms365_cancel_event', { id, comment: 'Postponed' });
    expect(call).toMatchObject({
      isError: false,
      text: 'Not cancelled: the user declined. The meeting stands.',
    });
    expect(asked[0]).toMatch(
      new RegExp(
        `^Cancel “Offsite \\(${era}\\)” on 2025-05-05 09:00 \\(.+\\)\\?\\n1 attendee will be told it is cancelled\\.\\nPostponed$`,
      ),
    );
    expect(t.world.graph.events.has(id)).toBe(true);
  });

  it('says who gets access before sharing, and shares nothing when declined', async () => {
    answer({ action: 'cancel' });
    const bodies = t.world.graph.sharing.bodies.length;
    const call = await server.call('ms365_share_file', { path: 'Finance/budget.xlsx', recipients: [BOB] });
    expect(call).toMatchObject({
      isError: false,
      text: 'Not shared: the user declined. No one was given access.',
    });
    expect(asked).toEqual([`Share Finance/budget.xlsx (can view) with ${BOB} (they get an email)?`]);
    expect(t.world.graph.sharing.bodies).toHaveLength(bodies);
  });
});

describe('a host without elicitation', () => {
  it('sends at once, as before', async () => {
    const server = await t.spawn({ env: hostEnv(t.world, { HOME: t.dirs.home }) });
    const call = await server.call('ms365_send_mail', { to: [BOB], subject: 'Plain host', body: 'x' });
    expect(call.isError).toBe(false);
    expect(
      t.world.graph
        .mailbox(BOB)
        .inFolder('inbox')
        .some((m) => m.subject === 'Plain host'),
    ).toBe(true);
  });
});
