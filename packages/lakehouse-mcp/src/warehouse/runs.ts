import { randomBytes } from 'node:crypto';

/** A short random id for runs: sortable by time, unique enough for one tenant's loads. */
export function newRunId(): string {
  return `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}
