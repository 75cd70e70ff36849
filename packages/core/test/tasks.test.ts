import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callAsTask,
  openTaskSession,
  spawnServer,
  TASKS_ENVELOPE,
  taskState,
  type SpawnedServer,
} from '@switchyard/testkit';

const bin = fileURLToPath(new URL('./fixtures/example-server.mjs', import.meta.url));

/**
 * Long work as MCP tasks (the `io.modelcontextprotocol/tasks` extension of MCP 2026-07-28, ext-tasks
 * `specification/draft/tasks.md`), driven by the official `@modelcontextprotocol/ext-tasks` requester where it can
 * be, and by raw requests for what a well-behaved client never sends.
 */
const ENVELOPE = TASKS_ENVELOPE;
const WITHOUT_TASKS = { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': {} };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('tasks, for a client that declares the extension (MCP 2026-07-28)', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer(bin, { era: 'modern' });
  });
  afterAll(() => server.close());

  const raw = async (method: string, params: Record<string, unknown>, meta: object = ENVELOPE) =>
    server.rawRequest({ method, params: { ...params, _meta: meta } });
  const taskOf = (result: unknown) => result as Record<string, unknown>;

  it('offers the extension in server/discover', () => {
    expect(server.client.getServerCapabilities()?.extensions).toEqual({
      'io.modelcontextprotocol/tasks': {},
    });
  });

  it('runs a long tool as a task: a handle at once, progress as the status, then the same result', async () => {
    const session = openTaskSession(server);
    try {
      const call = await callAsTask(session, 'example_slow_count', { n: 6, step_ms: 150 });
      expect(call.kind).toBe('task');
      expect(call.taskId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(call.outcome.status).toBe('completed');
      expect(call.text).toBe('counted to 6');
      // Polled while it ran: the progress the tool reported became the task's status message.
      expect(call.seen[0]).toEqual({ status: 'working', message: 'example_slow_count is running.' });
      expect(call.seen.some((s) => s.status === 'working' && /^counted \d$/.test(s.message ?? ''))).toBe(
        true,
      );
      expect(call.seen.at(-1)).toEqual({ status: 'completed', message: 'Done.' });
    } finally {
      await session.close();
    }
  });

  it('answers a short tool at once, even for a client that takes tasks', async () => {
    const session = openTaskSession(server);
    try {
      const call = await callAsTask(session, 'example_list_notes', { limit: 1 });
      expect(call).toMatchObject({ kind: 'immediate', text: '1,first note' });
    } finally {
      await session.close();
    }
  });

  it('cancels cleanly: the work stops, the task says so, and the server goes on', async () => {
    const session = openTaskSession(server);
    try {
      const call = await callAsTask(
        session,
        'example_slow_count',
        { n: 100, step_ms: 100 },
        { cancelWhen: (task) => /^counted/.test(task.statusMessage ?? '') },
      );
      expect(call.kind).toBe('task');
      expect(call.outcome.status).toBe('cancelled');
      // Cancelling is eventually consistent (the spec's word): the task ends once the work has stopped.
      await expect
        .poll(() => taskState(server, call.taskId!))
        .toMatchObject({
          status: 'cancelled',
          statusMessage:
            'The call was cancelled before it finished; nothing was changed by the cancelled part.',
        });
      // It stopped, and does not move on.
      const last = (await taskState(server, call.taskId!)).lastUpdatedAt;
      await sleep(400);
      expect((await taskState(server, call.taskId!)).lastUpdatedAt).toBe(last);
      expect((await server.call('example_list_notes', { limit: 1 })).text).toBe('1,first note');
    } finally {
      await session.close();
    }
  });

  it('keeps the result for a slow client that polls only after the work is done', async () => {
    const created = await raw('tools/call', { name: 'example_slow_count', arguments: { n: 3, step_ms: 20 } });
    expect(created.kind).toBe('result');
    const handle = taskOf(created.kind === 'result' ? created.result : undefined);
    expect(handle).toMatchObject({ resultType: 'task', status: 'working', pollIntervalMs: 500 });
    expect(typeof handle.ttlMs).toBe('number');
    await sleep(1_000);
    const done = await raw('tasks/get', { taskId: handle.taskId });
    expect(done).toMatchObject({
      kind: 'result',
      result: {
        resultType: 'complete',
        status: 'completed',
        result: { resultType: 'complete', content: [{ type: 'text', text: 'counted to 3' }] },
      },
    });
    // Acknowledged with an empty result; we never ask for input mid-way, so the keys are ignored.
    expect(
      await raw('tasks/update', { taskId: handle.taskId, inputResponses: { x: { action: 'accept' } } }),
    ).toEqual({
      kind: 'result',
      result: expect.objectContaining({ resultType: 'complete' }),
    });
  });

  it('answers an unknown task id with -32602 and one sentence', async () => {
    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
      const answer = await raw(method, { taskId: 'no-such-task', inputResponses: {} });
      expect(answer).toMatchObject({ kind: 'error', error: { code: -32602 } });
      expect(answer.kind === 'error' && answer.error.message).toMatch(
        /^Failed to retrieve task: no task 'no-such-task' here; it never existed or its result expired/,
      );
    }
  });

  it('refuses the task methods to a request that does not declare the extension (-32021)', async () => {
    const answer = await raw('tasks/get', { taskId: 'anything' }, WITHOUT_TASKS);
    expect(answer).toMatchObject({
      kind: 'error',
      error: {
        code: -32021,
        data: { requiredCapabilities: { extensions: { 'io.modelcontextprotocol/tasks': {} } } },
      },
    });
  });

  it('never returns a task to a request that does not declare the extension', async () => {
    const answer = await raw(
      'tools/call',
      { name: 'example_slow_count', arguments: { n: 2, step_ms: 10 } },
      WITHOUT_TASKS,
    );
    expect(answer).toMatchObject({
      kind: 'result',
      result: { resultType: 'complete', content: [{ type: 'text', text: 'counted to 2' }] },
    });
  });

  it('runs at most 8 tasks at once; a call past that runs as a plain call', async () => {
    const ids: string[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const created = await raw('tools/call', {
          name: 'example_slow_count',
          arguments: { n: 100, step_ms: 100 },
        });
        ids.push(String((created as { result: { taskId: string } }).result.taskId));
      }
      const ninth = await raw('tools/call', { name: 'example_slow_count', arguments: { n: 1, step_ms: 0 } });
      expect(ninth).toMatchObject({
        kind: 'result',
        result: { resultType: 'complete', content: [{ text: 'counted to 1' }] },
      });
    } finally {
      for (const taskId of ids) await raw('tasks/cancel', { taskId });
    }
  });
});

describe('tasks are not offered where the protocol has no room for them', () => {
  it('a 2025-11-25 session is offered no extension and gets plain results, with progress', async () => {
    const server = await spawnServer(bin, { era: 'legacy' });
    try {
      expect(server.client.getServerCapabilities()?.extensions).toBeUndefined();
      const progress: number[] = [];
      const call = await server.call(
        'example_slow_count',
        { n: 3, step_ms: 10 },
        { onProgress: (p) => progress.push(p.progress) },
      );
      expect(call.text).toBe('counted to 3');
      expect(progress).toEqual([1, 2, 3]);
    } finally {
      await server.close();
    }
  });

  it('a 2026-07-28 client that does not declare the extension gets the plain result', async () => {
    const server = await spawnServer(bin, { era: 'modern' });
    try {
      expect((await server.call('example_slow_count', { n: 2, step_ms: 10 })).text).toBe('counted to 2');
    } finally {
      await server.close();
    }
  });
});
