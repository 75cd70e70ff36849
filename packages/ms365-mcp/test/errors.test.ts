// Throttling and failures of Graph through the built bin: Retry-After honoured, concurrency bounded, an
// unrepeatable request never sent twice, an unreachable Graph named.
import { beforeEach, describe, expect, it } from 'vitest';
import { spawnServer } from '@switchyard/testkit';
import type { FakeMessage } from './fake/graph.js';
import { ALICE, bin, folders, hostEnv, withWorld } from './helpers.js';

let messages: FakeMessage[];
const INBOX = '/v1.0/me/mailFolders/inbox/messages';

const t = withWorld({
  seed: (world) => {
    const box = world.graph.mailbox(ALICE);
    messages = Array.from({ length: 12 }, (_, i) =>
      box.add({ subject: `Message ${i}`, received: Date.now() - i * 60_000 }),
    );
  },
  signIn: false,
  server: ({ world }) => ({
    env: {
      MS365_ACCESS_TOKEN: world.authority.mint({
        username: ALICE,
        scopes: ['User.Read', 'Mail.ReadWrite', 'Mail.Send', 'Calendars.ReadWrite', 'Files.ReadWrite.All'],
      }),
    },
  }),
});

beforeEach(() => {
  t.world.graph.service.clearFaults();
  t.world.graph.latencyMs = 0;
});

const throttled = { error: { code: 'TooManyRequests', message: 'Too many requests.' } };

describe('throttling', () => {
  it('honours Retry-After and then answers', async () => {
    const before = t.world.graph.service.requestsTo(INBOX).length;
    t.world.graph.service.inject({ path: INBOX, status: 429, retryAfter: 1, body: throttled });
    const call = await t.server.call('ms365_list_messages', { top: 3 });
    expect(call.isError).toBe(false);
    const attempts = t.world.graph.service.requestsTo(INBOX).slice(before);
    expect(attempts.map((r) => r.status)).toEqual([429, 200]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up at once when Retry-After is longer than it will wait', async () => {
    const before = t.world.graph.service.requestsTo(INBOX).length;
    t.world.graph.service.inject({ path: INBOX, status: 429, retryAfter: 120, body: throttled });
    const call = await t.server.call('ms365_list_messages', {});
    expect(call.isError).toBe(true);
    expect(call.text).toBe(
      'Microsoft Graph is throttling requests and asks to wait 120 s. Upstream said: Microsoft Graph 429 TooManyRequests: «Too many requests.» Wait that long and try again with fewer calls; Outlook allows 10,000 requests per 10 minutes per mailbox.',
    );
    expect(t.world.graph.service.requestsTo(INBOX).length - before).toBe(1);
  });

  it('stops after a bounded number of attempts', async () => {
    const before = t.world.graph.service.requestsTo(INBOX).length;
    t.world.graph.service.inject({ path: INBOX, status: 429, retryAfter: 1, body: throttled, times: 10 });
    const call = await t.server.call('ms365_list_messages', {});
    expect(call.text).toBe(
      'Microsoft Graph is throttling requests and asks to wait 1 s. Upstream said: Microsoft Graph 429 TooManyRequests: «Too many requests.» Wait that long and try again with fewer calls; Outlook allows 10,000 requests per 10 minutes per mailbox.',
    );
    expect(t.world.graph.service.requestsTo(INBOX).length - before).toBe(4);
  });

  it('without Retry-After, backs off within its attempts and does not name a wait', async () => {
    const before = t.world.graph.service.requestsTo(INBOX).length;
    t.world.graph.service.inject({ path: INBOX, status: 429, body: throttled, times: 10 });
    const call = await t.server.call('ms365_list_messages', {});
    expect(call.text).toBe(
      'Microsoft Graph is throttling requests. Upstream said: Microsoft Graph 429 TooManyRequests: «Too many requests.» Wait a little and try again with fewer calls; Outlook allows 10,000 requests per 10 minutes per mailbox.',
    );
    expect(t.world.graph.service.requestsTo(INBOX).length - before).toBe(4);
  });

  it('explains the mailbox concurrency limit', async () => {
    t.world.graph.service.inject({
      path: INBOX,
      status: 429,
      retryAfter: 60,
      body: {
        error: { code: 'ApplicationThrottled', message: 'Application is over its MailboxConcurrency limit.' },
      },
    });
    const call = await t.server.call('ms365_list_messages', {});
    expect(call.text).toBe(
      'Microsoft Graph refused the call: too many requests were running against this mailbox at once (its MailboxConcurrency limit is 4). Upstream said: Microsoft Graph 429 ApplicationThrottled: «Application is over its MailboxConcurrency limit.» Wait 60 seconds and try again; other apps using the same mailbox count toward the limit.',
    );
  });

  it('keeps its own requests to one mailbox at four at a time', async () => {
    // Long enough that all ten calls are in the server before the first answer, even on a busy machine.
    t.world.graph.latencyMs = 800;
    const before = t.world.graph.service.requests.length;
    const calls = await Promise.all(
      messages.slice(0, 10).map((m) => t.server.call('ms365_get_message', { id: m.id })),
    );
    expect(calls.every((c) => !c.isError)).toBe(true);
    expect(t.world.graph.maxInflight.get(ALICE)).toBe(4);
    // Not one request had to be refused by the mailbox's limit.
    expect(t.world.graph.service.requests.slice(before).filter((r) => r.status === 429)).toEqual([]);
  });
});

describe('server failures', () => {
  it('retries a read through a brief 503', async () => {
    t.world.graph.service.inject({
      path: INBOX,
      status: 503,
      times: 1,
      body: { error: { code: 'ServiceUnavailable', message: 'Service unavailable.' } },
    });
    expect((await t.server.call('ms365_list_messages', {})).isError).toBe(false);
  });

  it('says Graph is unavailable after the retries, and works again afterwards', async () => {
    t.world.graph.service.inject({
      path: INBOX,
      status: 503,
      retryAfter: 0,
      times: 4,
      body: { error: { code: 'ServiceUnavailable', message: 'Service unavailable.' } },
    });
    const call = await t.server.call('ms365_list_messages', {});
    expect(call.text).toBe(
      'Microsoft Graph is temporarily unavailable (HTTP 503). Upstream said: Microsoft Graph 503 ServiceUnavailable: «Service unavailable.» Try again in a minute.',
    );
    expect((await t.server.call('ms365_list_messages', {})).isError).toBe(false);
  });

  const unavailable = { error: { code: 'ServiceUnavailable', message: 'Service unavailable.' } };
  const mayHaveGoneThrough =
    'Microsoft Graph is temporarily unavailable (HTTP 503); the request was not repeated, as it may have gone through all the same. Upstream said: Microsoft Graph 503 ServiceUnavailable: «Service unavailable.»';
  const checkSent =
    'Check Sent Items (ms365_list_messages, folder sentitems) before sending again, so that the mail does not go out twice.';

  interface Row {
    what: string;
    tool: string;
    /** Thunks: the rows are built before beforeAll seeds the messages. */
    args: () => Record<string, unknown>;
    path: () => string;
    check: string;
  }
  it.each<Row>([
    {
      what: 'a send',
      tool: 'ms365_send_mail',
      args: () => ({ to: ['bob@contoso.com'], subject: 'Once' }),
      path: () => '/v1.0/me/sendMail',
      check: checkSent,
    },
    {
      what: 'a reply',
      tool: 'ms365_reply',
      args: () => ({ id: messages[0]!.id, comment: 'Noted.' }),
      path: () => `/v1.0/me/messages/${messages[0]!.id}/reply`,
      check: checkSent,
    },
    {
      what: 'a new event',
      tool: 'ms365_create_event',
      args: () => ({ subject: 'Once', start: '2025-06-02T10:00', end: '2025-06-02T11:00' }),
      path: () => '/v1.0/me/events',
      check:
        'Check the calendar (ms365_list_events) before creating the event again, so that it is not there twice.',
    },
  ])('never repeats $what after a 503, and says it may have gone through', async (row) => {
    const before = t.world.graph.service.requestsTo(row.path(), 'POST').length;
    t.world.graph.service.inject({ path: row.path(), method: 'POST', status: 503, body: unavailable });
    const call = await t.server.call(row.tool, row.args());
    expect(call.isError).toBe(true);
    expect(call.text).toBe(`${mayHaveGoneThrough} ${row.check}`);
    expect(t.world.graph.service.requestsTo(row.path(), 'POST').length - before).toBe(1);
  });

  it('says when Graph cannot be reached at all', async () => {
    const other = folders();
    const token = t.world.authority.mint({ username: ALICE, scopes: ['Mail.Read'] });
    const lost = await spawnServer(bin, {
      configDir: other.configDir,
      dataDir: other.dataDir,
      env: hostEnv(t.world, { MS365_ACCESS_TOKEN: token, MS365_GRAPH_URL: 'https://127.0.0.1:9/v1.0' }),
    });
    try {
      const call = await lost.call('ms365_list_messages', {});
      expect(call.text).toBe(
        'Could not reach Microsoft Graph at 127.0.0.1:9 (ECONNREFUSED). Check the network connection and the configured URL.',
      );
    } finally {
      await lost.close();
      other.cleanup();
    }
  });
});
