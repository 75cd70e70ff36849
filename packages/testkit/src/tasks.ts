import {
  createTaskSessionFromClient,
  type TaskEnabledSession,
  type TaskOutcome,
  type TaskView,
} from '@modelcontextprotocol/ext-tasks/client';
import { resultText, type CallToolResult, type StdioConnection } from '@switchyard/core/client';

/**
 * MCP tasks as a client no one here wrote drives them: the official `@modelcontextprotocol/ext-tasks` requester,
 * on a connection that speaks MCP 2026-07-28. It declares the `io.modelcontextprotocol/tasks` extension on its
 * requests, takes a task handle or a plain result from tools/call, polls `tasks/get` at the server's interval and
 * sends `tasks/cancel`. Task-shaped answers go past the SDK client's per-era result checks (which know no
 * `resultType: "task"`) through the connection's raw requests, as the package's adapter asks of a host.
 */
export function openTaskSession(connection: StdioConnection): TaskEnabledSession {
  return createTaskSessionFromClient(connection.client, {
    endpointId: 'switchyard-tests',
    rawDispatch: async (request, options) =>
      (await connection.rawRequest(
        request as { method: string; params?: Record<string, unknown> },
        options?.signal,
      )) as never,
    v2RequestFraming: {
      protocolVersion: '2026-07-28',
      clientInfo: { name: 'switchyard-tasks-client', version: '1.0.0' },
      clientCapabilities: {},
    },
  });
}

/** How a call made through {@link callAsTask} went: as a task (its id and every status seen) or at once. */
export interface TaskCall {
  kind: 'task' | 'immediate';
  taskId: string | undefined;
  /** Every task state the client observed, in order (status and status message). */
  seen: Array<{ status: string; message: string | undefined }>;
  outcome: TaskOutcome<CallToolResult>;
  result: CallToolResult | undefined;
  text: string;
  isError: boolean;
  structured: Record<string, unknown> | undefined;
}

/**
 * Call a tool through a task session and follow it to its end. `cancelWhen` is asked after each observed state;
 * when it says so the client sends `tasks/cancel` (once) and keeps following until the task ends.
 */
export async function callAsTask(
  session: TaskEnabledSession,
  name: string,
  args: Record<string, unknown>,
  options: { cancelWhen?: (task: TaskView) => boolean } = {},
): Promise<TaskCall> {
  const execution = await session.callTool<CallToolResult>(name, args as never);
  const seen: TaskCall['seen'] = [];
  let cancelled = false;
  const { outcome } = await execution.settle({
    onEvent: async (event) => {
      if (event.type !== 'task') return;
      seen.push({ status: event.task.status, message: event.task.statusMessage });
      if (!cancelled && options.cancelWhen?.(event.task)) {
        cancelled = true;
        await execution.cancel();
      }
    },
  });
  const result = outcome.status === 'completed' ? outcome.result : undefined;
  return {
    kind: execution.kind,
    taskId: execution.kind === 'task' ? String(execution.handle.taskId) : undefined,
    seen,
    outcome,
    result,
    text: result ? resultText(result) : '',
    isError: result?.isError === true,
    structured: result?.structuredContent as Record<string, unknown> | undefined,
  };
}

/** The `_meta` envelope of an MCP 2026-07-28 request from a client that declares the tasks extension. */
export const TASKS_ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'switchyard-raw-tasks', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': { extensions: { 'io.modelcontextprotocol/tasks': {} } },
};

/** A task's state as `tasks/get` answers it (or the error), asked in raw: for what the requester keeps to itself. */
export async function taskState(
  connection: StdioConnection,
  taskId: string,
): Promise<Record<string, unknown>> {
  const answer = await connection.rawRequest({
    method: 'tasks/get',
    params: { taskId, _meta: TASKS_ENVELOPE },
  });
  return answer.kind === 'result' ? (answer.result as Record<string, unknown>) : { error: answer.error };
}
