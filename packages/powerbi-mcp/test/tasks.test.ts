// A refresh followed to its end as an MCP task (the io.modelcontextprotocol/tasks extension of MCP 2026-07-28),
// driven by the official ext-tasks client: polled, cancelled, and its outcome fetched.
import { describe, expect, it } from 'vitest';
import { callAsTask, openTaskSession, taskState } from '@switchyard/testkit';
import { withWorld } from './helpers.js';

const at = { workspace: 'Sales Analytics', dataset: 'Sales Model' };

describe('powerbi_refresh_dataset as a task', () => {
  const t = withWorld({ server: { era: 'modern' } });

  it('with wait: a handle at once, the refresh state while it runs, then the outcome', async () => {
    t.world.pbi.settings.refreshMs = 2_500;
    const session = openTaskSession(t.server);
    try {
      const call = await callAsTask(session, 'powerbi_refresh_dataset', {
        ...at,
        wait: true,
        timeout_seconds: 60,
      });
      expect(call.kind).toBe('task');
      expect(call.outcome.status).toBe('completed');
      expect(call.isError).toBe(false);
      expect(call.text.split('\n')[0]).toMatch(
        /^The refresh of dataset «Sales Model» in workspace «Sales Analytics» completed/,
      );
      expect(call.structured).toMatchObject({ status: 'completed' });
      // What the tool reports as progress is what a polling client reads.
      expect(call.seen.map((s) => s.message)).toContain('refresh in progress after 1 s');
    } finally {
      t.world.pbi.settings.refreshMs = 1500;
      await session.close();
    }
  });

  it('without wait: answers at once, no task', async () => {
    const session = openTaskSession(t.server);
    try {
      const call = await callAsTask(session, 'powerbi_refresh_dataset', at);
      expect(call.kind).toBe('immediate');
      expect(call.text).toMatch(/^Started a refresh of dataset «Sales Model» in workspace «Sales Analytics»/);
    } finally {
      await session.close();
    }
  });

  it('cancelled: the wait stops, the refresh goes on in Power BI, and the task says so', async () => {
    t.world.pbi.settings.refreshMs = 30_000;
    const session = openTaskSession(t.server);
    try {
      const call = await callAsTask(
        session,
        'powerbi_refresh_dataset',
        { ...at, wait: true },
        { cancelWhen: (task) => /in progress/.test(task.statusMessage ?? '') },
      );
      expect(call.outcome.status).toBe('cancelled');
      await expect
        .poll(() => taskState(t.server, call.taskId!))
        .toMatchObject({
          status: 'cancelled',
          statusMessage:
            'Stopped waiting for the refresh of dataset «Sales Model» in workspace «Sales Analytics»; the refresh itself goes on in Power BI (follow it with powerbi_get_refresh_history).',
        });
      const refreshes = t.world.pbi.dataset('Sales Analytics', 'Sales Model').refreshes;
      expect(refreshes[0]!.finishesAt).toBeGreaterThan(Date.now());
    } finally {
      t.world.pbi.settings.refreshMs = 1500;
      await session.close();
    }
  });
});
