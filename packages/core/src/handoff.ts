import type { RequestId } from '@modelcontextprotocol/server';

/**
 * How the quick start (quick-start.ts) hands a stdio session to the full server once a message needs it: every byte
 * read from stdin so far, which the full transport reads first (so the SDK sees the whole session, its opening
 * included), and the ids the quick start already answered, whose second answers the transport does not send.
 */
export interface Handoff {
  /** Everything read from stdin before the hand-over, in order. */
  readonly received: Buffer;
  /** Requests already answered by the quick start. */
  readonly answered: Set<RequestId>;
  /** Whether the quick start logged the start-up lines (modes, tools served) already. */
  readonly logged: boolean;
  /** The full server could not start: the quick start answers what is pending with this sentence and leaves. */
  failed(sentence: string): void;
}

const KEY = Symbol.for('switchyard.quick-start.handoff');

/** The hand-over of this process, if the quick start made one and the server's stdio has not taken it yet. */
export function handoff(): Handoff | undefined {
  return (globalThis as { [KEY]?: Handoff })[KEY];
}

/** The stdio transport takes the hand-over, once: from then on the session is the server's. */
export function takeHandoff(): Handoff | undefined {
  const given = handoff();
  delete (globalThis as { [KEY]?: Handoff })[KEY];
  return given;
}

/** Made by the quick start just before it loads the server. */
export function offerHandoff(h: Handoff): void {
  (globalThis as { [KEY]?: Handoff })[KEY] = h;
}
