import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeService } from '@switchyard/testkit';

let fake: FakeService;
beforeAll(async () => {
  fake = await FakeService.start('t');
  fake.route('GET', '/items/:id', (req) => ({ body: { id: req.params.id } }));
});
afterAll(() => fake.close());

describe('FakeService', () => {
  it('serves routes with params over HTTPS trusted through NODE_EXTRA_CA_CERTS', async () => {
    const res = await fetch(`${fake.url}/items/42?x=1`);
    expect(await res.json()).toEqual({ id: '42' });
    expect(fake.requestsTo('/items/42')[0]).toMatchObject({ method: 'GET', query: { x: '1' }, status: 200 });
  });

  it('injects a status with Retry-After a given number of times, then recovers', async () => {
    fake.inject({ path: '/items', status: 429, retryAfter: 3, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${fake.url}/items/1`)).status);
    expect(statuses).toEqual([429, 429, 200]);
  });

  it('drops a connection and answers unknown routes with 404', async () => {
    fake.inject({ path: /\/items\/drop$/, drop: true });
    await expect(fetch(`${fake.url}/items/drop`)).rejects.toThrow();
    expect((await fetch(`${fake.url}/nothing`)).status).toBe(404);
  });
});
