import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthError,
  CancelledError,
  HttpClient,
  NotFoundError,
  RateLimitedError,
  UpstreamError,
  collectPages,
  errorText,
  nextLinkPages,
  skipPages,
} from '@switchyard/core';
import { FakeService } from '@switchyard/testkit';

let fake: FakeService;
let slowAnswers = 0;
const items = Array.from({ length: 23 }, (_, i) => ({ id: i + 1 }));

beforeAll(async () => {
  fake = await FakeService.start('fake API');
  fake.route('GET', '/api/things', (req) => ({
    body: { value: [{ id: 1 }], q: req.query.get('q') },
    headers: { 'request-id': 'req-1' },
  }));
  fake.route('POST', '/api/things', (req) => ({
    status: 201,
    body: { created: req.json<{ name: string }>().name },
  }));
  fake.route('GET', '/api/missing', () => ({
    status: 404,
    headers: { 'x-ms-request-id': 'rid-404' },
    body: { error: { code: 'ItemNotFound', message: 'The thing does not exist.' } },
  }));
  fake.route('GET', '/api/slow', async () => {
    await new Promise((r) => setTimeout(r, 2000));
    slowAnswers++;
    return { body: { late: true } };
  });
  fake.route('GET', '/api/secure', (req) =>
    req.headers.authorization === 'Bearer fresh-token'
      ? { body: { ok: true } }
      : { status: 401, body: { error: { code: 'TokenExpired', message: 'expired' } } },
  );
  fake.route('GET', '/api/redirect', () => ({ status: 302, headers: { location: '/api/things?q=moved' } }));
  fake.route('GET', '/api/paged', (req) => {
    const skip = Number(req.query.get('skip') ?? 0);
    const page = items.slice(skip, skip + 5);
    return {
      body: {
        value: page,
        ...(skip + 5 < items.length ? { '@odata.nextLink': `${fake.url}/api/paged?skip=${skip + 5}` } : {}),
      },
    };
  });
  fake.route('GET', '/api/skip', (req) => {
    const skip = Number(req.query.get('$skip'));
    const top = Number(req.query.get('$top'));
    return { body: { value: items.slice(skip, skip + top) } };
  });
});
afterAll(() => fake.close());
afterEach(() => {
  fake.clearFaults();
  fake.requests.length = 0;
});

const client = (extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) =>
  new HttpClient({ service: 'Fake API', baseUrl: `${fake.url}/api`, baseDelayMs: 10, ...extra });

describe('HttpClient', () => {
  it('sends and receives JSON with query parameters', async () => {
    expect(await client().get('/things', { query: { q: 'a b', skip: undefined } })).toEqual({
      value: [{ id: 1 }],
      q: 'a b',
    });
    expect(await client().post('/things', { name: 'n' })).toEqual({ created: 'n' });
    expect(fake.requests[1]!.headers['content-type']).toBe('application/json');
  });

  it('turns an upstream error body into a typed error with code, message and request id', async () => {
    const err = await client()
      .get('/missing')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).upstream).toEqual({
      service: 'Fake API',
      status: 404,
      code: 'ItemNotFound',
      message: 'The thing does not exist.',
      requestId: 'rid-404',
    });
    expect(errorText(err as NotFoundError)).toBe(
      'Fake API has no such item, or the caller cannot see it. Upstream said: Fake API 404 ItemNotFound: «The thing does not exist.» (request id rid-404).',
    );
  });

  it('honours Retry-After on 429 and then succeeds', async () => {
    fake.inject({ path: '/api/things', status: 429, retryAfter: 1 });
    expect(await client().get('/things')).toMatchObject({ value: [{ id: 1 }] });
    const [first, second] = fake.requestsTo('/api/things');
    expect(first!.status).toBe(429);
    expect(second!.status).toBe(200);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('gives up with RateLimitedError when the attempts run out', async () => {
    fake.inject({ path: '/api/things', status: 429, retryAfter: 0, times: 10 });
    const err = await client({ maxAttempts: 3 })
      .get('/things')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(fake.requestsTo('/api/things')).toHaveLength(3);
  });

  it('does not sit out a Retry-After longer than the cap', async () => {
    fake.inject({
      path: '/api/things',
      status: 429,
      retryAfter: 120,
      times: 2,
      body: { error: { code: 'TooManyRequests', message: 'Slow down.' } },
    });
    const err = await client({ maxRetryWaitMs: 5000 })
      .get('/things')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect((err as RateLimitedError).retryAfterSeconds).toBe(120);
    expect(errorText(err as RateLimitedError)).toBe(
      'Fake API is throttling requests and asks to wait 120 s. Upstream said: Fake API 429 TooManyRequests: «Slow down.» Wait a little and try again, or ask for less at once.',
    );
    expect(fake.requestsTo('/api/things')).toHaveLength(1);
  });

  it('retries 503 for GET but not for POST', async () => {
    fake.inject({ path: '/api/things', status: 503, times: 2 });
    expect(await client().get('/things')).toMatchObject({ value: [{ id: 1 }] });
    expect(fake.requestsTo('/api/things', 'GET')).toHaveLength(3);

    fake.inject({ path: '/api/things', method: 'POST', status: 503 });
    const err = await client()
      .post('/things', { name: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(errorText(err as UpstreamError)).toBe(
      'Fake API is temporarily unavailable (HTTP 503); the request was not repeated, as it may have gone through all the same. Upstream said: Fake API 503. Check whether it took effect before trying it again.',
    );
    expect(fake.requestsTo('/api/things', 'POST')).toHaveLength(1);
  });

  it('tells the error mapper whether the failed request was safe to repeat', async () => {
    const seen: Array<[string, boolean]> = [];
    const c = client({
      maxAttempts: 1,
      describeError: (f) => {
        seen.push([f.method, f.idempotent]);
        return undefined;
      },
    });
    fake.inject({ path: '/api/things', status: 503, times: 3 });
    const get = await c.get('/things').catch((e: unknown) => e);
    await c.post('/things', { name: 'x' }).catch(() => undefined);
    await c.post('/things', { name: 'x' }, { idempotent: true }).catch(() => undefined);
    expect(seen).toEqual([
      ['GET', true],
      ['POST', false],
      ['POST', true],
    ]);
    expect(errorText(get as UpstreamError)).toBe(
      'Fake API is temporarily unavailable (HTTP 503). Upstream said: Fake API 503. Try again in a minute.',
    );
  });

  it('says a POST that timed out or lost its connection may have gone through, and does not repeat it', async () => {
    fake.inject({ path: '/api/things', method: 'POST', delayMs: 1500 });
    const late = await client({ timeoutMs: 1000 })
      .post('/things', { name: 'x' })
      .catch((e: unknown) => e);
    expect(errorText(late as UpstreamError)).toBe(
      'Fake API did not answer within 1 s. The request may have gone through all the same: check whether it took effect before trying it again.',
    );

    fake.inject({ path: '/api/things', method: 'POST', drop: true });
    const dropped = await client()
      .post('/things', { name: 'x' })
      .catch((e: unknown) => e);
    expect(errorText(dropped as UpstreamError).replace(/localhost:\d+/, 'localhost:PORT')).toMatch(
      /^The connection to Fake API at localhost:PORT broke before the answer came \((UND_ERR_SOCKET|ECONNRESET)\)\. The request may have gone through all the same: check whether it took effect before trying it again\.$/,
    );
    expect(fake.requestsTo('/api/things', 'POST')).toHaveLength(2);
  });

  it('retries a dropped connection for GET', async () => {
    fake.inject({ path: '/api/things', drop: true });
    expect(await client().get('/things')).toMatchObject({ value: [{ id: 1 }] });
    expect(fake.requestsTo('/api/things')).toHaveLength(2);
  });

  it('times out a slow answer with a clear error', async () => {
    const err = await client({ timeoutMs: 300 })
      .get('/slow')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as Error).message).toBe('Fake API did not answer within 0 s');
  });

  it('stops at once when the caller cancels mid-request', async () => {
    const controller = new AbortController();
    const answeredBefore = slowAnswers;
    setTimeout(() => controller.abort(), 100);
    const err = await client()
      .get('/slow', { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    // Back before the slow answer came (the abort's timer runs before the answer's, in this same process).
    expect(slowAnswers).toBe(answeredBefore);
  });

  it('stops waiting for a retry when the caller cancels', async () => {
    fake.inject({ path: '/api/things', status: 429, retryAfter: 10 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await client()
      .get('/things', { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
  });

  it('says the upstream is unreachable', async () => {
    const err = await new HttpClient({
      service: 'Nowhere',
      baseUrl: 'https://127.0.0.1:9',
      maxAttempts: 2,
      baseDelayMs: 1,
    })
      .get('/x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(errorText(err as UpstreamError)).toBe(
      'Could not reach Nowhere at 127.0.0.1:9 (ECONNREFUSED). Check the network connection and the configured URL.',
    );
  });

  it('refreshes the token once when the upstream says it expired', async () => {
    const seen: boolean[] = [];
    const c = client({
      auth: async ({ forceRefresh }) => {
        seen.push(forceRefresh);
        return { authorization: `Bearer ${forceRefresh ? 'fresh-token' : 'stale-token'}` };
      },
      shouldRefreshAuth: (f) => f.code === 'TokenExpired',
    });
    expect(await c.get('/secure')).toEqual({ ok: true });
    expect(seen).toEqual([false, true]);
    const never = client({
      auth: async () => ({ authorization: 'Bearer stale-token' }),
      shouldRefreshAuth: () => true,
    });
    const err = await never.get('/secure').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect(fake.requestsTo('/api/secure')).toHaveLength(4);
  });

  it('follows redirects', async () => {
    expect(await client().get('/redirect')).toMatchObject({ q: 'moved' });
  });

  it('pages nextLink collections within a bound and returns the cursor of the rest', async () => {
    const c = client();
    const first = await collectPages(nextLinkPages<{ id: number }>(c, '/paged'), { maxItems: 12 });
    expect(first.items.map((i) => i.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(first.truncated).toBe(true);
    const rest = await collectPages(nextLinkPages<{ id: number }>(c, '/paged'), {
      maxItems: 100,
      cursor: first.next,
    });
    expect(rest.items.map((i) => i.id)).toEqual([13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
    expect(rest.truncated).toBe(false);
    const capped = await collectPages(nextLinkPages<{ id: number }>(c, '/paged'), {
      maxItems: 100,
      maxPages: 2,
    });
    expect(capped.items).toHaveLength(10);
    expect(capped.truncated).toBe(true);
  });

  it('pages $top/$skip collections', async () => {
    const all = await collectPages(skipPages<{ id: number }>(client(), '/skip', 10), { maxItems: 100 });
    expect(all.items).toHaveLength(23);
    expect(all.truncated).toBe(false);
    expect(fake.requestsTo('/api/skip').map((r) => r.query.$skip)).toEqual(['0', '10', '20']);
  });
});
