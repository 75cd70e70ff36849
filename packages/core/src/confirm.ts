import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  acceptedContent,
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  inputResponse,
  type ClientCapabilities,
  type InputRequiredResult,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { oneLine } from './untrusted.js';
import type { ToolContext, ToolDefinition, ToolReply } from './tool.js';

/**
 * Confirmations for what cannot be taken back, through MCP elicitation: before a tool that declares `confirm`
 * runs, the user (not the model) is shown what will happen and accepts or declines. Written once in the
 * 2026-07-28 multi-round-trip style (`input_required`, client retries with the answer); on a 2025-era session the
 * SDK's shim sends the same question as an `elicitation/create` request. A client without elicitation, or a
 * server started with `--no-confirm`, runs the tool as it always did.
 */
const KEY = 'switchyard_confirm';

/** A flat form of one boolean, the only shape asked: never a secret (the specification forbids asking for one). */
const REQUESTED = {
  type: 'object' as const,
  properties: {
    confirm: {
      type: 'boolean' as const,
      title: 'Go ahead',
      description: 'Check to go ahead; leave it to stop.',
    },
  },
  required: ['confirm'],
};
const ANSWER = z.object({ confirm: z.boolean() });

/** What a message may hold: short lines, no control or invisible characters (outside bytes stay readable). */
const MAX_LINES = 12;
const MAX_LINE = 200;

function cleanMessage(message: string): string {
  const lines = message.split('\n').map((line) => oneLine(line, MAX_LINE));
  return lines.length > MAX_LINES ? [...lines.slice(0, MAX_LINES), '…'].join('\n') : lines.join('\n');
}

/** Whether the client of this request can be asked through a form (2025: at `initialize`; 2026: per request). */
export function canElicit(ctx: ServerContext, legacyCapabilities: ClientCapabilities | undefined): boolean {
  // 2026-07-28: `_meta["io.modelcontextprotocol/clientCapabilities"]` of this very request (basic/index.mdx).
  const envelope = ctx.mcpReq.envelope as Record<string, ClientCapabilities | undefined> | undefined;
  const elicitation = (envelope?.[CLIENT_CAPABILITIES_META_KEY] ?? legacyCapabilities)?.elicitation;
  if (elicitation === undefined) return false;
  // A bare `elicitation: {}` means form support (MCP 2025-06-18); later clients say `form` or only `url`.
  return Object.keys(elicitation).length === 0 || 'form' in elicitation;
}

/** The answer binds to the very call it was asked for: a retry with other arguments is asked again. */
const secret = randomBytes(32);
function stateOf(tool: ToolDefinition, args: Record<string, unknown>): string {
  return createHmac('sha256', secret)
    .update(JSON.stringify([tool.name, args]))
    .digest('base64url');
}

export type ConfirmStep =
  { kind: 'run' } | { kind: 'ask'; result: InputRequiredResult } | { kind: 'declined'; reply: ToolReply };

/** Decide, on each round of a call, whether to ask, to run, or to answer that the user declined. */
export async function confirmStep(
  tool: ToolDefinition,
  args: Record<string, unknown>,
  toolCtx: ToolContext,
  ctx: ServerContext,
): Promise<ConfirmStep> {
  const state = stateOf(tool, args);
  const view = inputResponse(ctx.mcpReq.inputResponses, KEY);
  if (view.kind === 'elicit' && ctx.mcpReq.requestState() === state) {
    const answer = acceptedContent(ctx.mcpReq.inputResponses, KEY, ANSWER);
    // Accepted: run, without building the question again (it may have cost an upstream read).
    if (view.action === 'accept' && answer?.confirm === true) return { kind: 'run' };
    toolCtx.log.info(`${tool.name}: the user declined (${view.action})`);
    const asked = await tool.confirm?.(args, toolCtx);
    return {
      kind: 'declined',
      reply: asked?.declined ?? { text: `Not done: the user declined ${tool.name}.` },
    };
  }
  const question = await tool.confirm?.(args, toolCtx);
  if (!question) return { kind: 'run' };
  return {
    kind: 'ask',
    result: inputRequired({
      inputRequests: {
        [KEY]: inputRequired.elicit({ message: cleanMessage(question.message), requestedSchema: REQUESTED }),
      },
      requestState: state,
    }),
  };
}
