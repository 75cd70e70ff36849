import { randomBytes } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { errorText, isSwitchyardError } from './errors.js';
import type { Logger } from './log.js';
import { redact } from './redact.js';
import { markErrorKind } from './audit.js';

/** A short id that ties an unexpected error's answer to its logged stack. */
export function shortId(): string {
  return randomBytes(4).toString('hex');
}

/** Turn any thrown value into an `isError` result; unexpected ones get an id that is logged with the stack. */
export function errorResult(err: unknown, log: Logger, toolName: string): CallToolResult {
  let text: string;
  if (isSwitchyardError(err)) {
    text = errorText(err);
    log.debug(`${toolName} answered with ${err.name}`, { message: err.message });
  } else {
    const id = shortId();
    log.error(
      `unexpected error ${id} in ${toolName}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    text = `${toolName} failed with an unexpected error (id ${id}); the details are in the server's log. Try again, and report the id if it persists.`;
  }
  const result: CallToolResult = { isError: true, content: [{ type: 'text', text: redact(text) }] };
  markErrorKind(result, isSwitchyardError(err) ? err.kind : 'unexpected');
  return result;
}
