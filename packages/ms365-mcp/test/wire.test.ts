// Rule 6 on the wire (issue #15): a 5 MB mail body, a 3 MB file and fifty messages with huge subjects come back
// within each tool's byte cap with the largest arguments, and say what was cut. ms365 sends no structuredContent:
// every answer is its text, once.
import { describe, expect, it } from 'vitest';
import { doubledPayload, fenceProblems, resultBytes } from '@switchyard/testkit';
import { DEFAULT_RESULT_BYTES, MAX_RESULT_BYTES } from '@switchyard/core';
import { ALICE, withWorld } from './helpers.js';

let bigId: string;

const t = withWorld({
  seed: (world) => {
    const box = world.graph.mailbox(ALICE);
    bigId = box.add({
      subject: 'The whole archive',
      body: { contentType: 'text', content: 'b'.repeat(5_000_000) },
    }).id;
    for (let i = 0; i < 60; i++)
      box.add({ subject: `Huge subject ${i} ${'s'.repeat(200_000)}`, received: Date.now() - i * 1000 });
    world.graph.drive(ALICE).put('Documents/huge.txt', 'line of text\n'.repeat(250_000));
  },
});
describe('ms365 answers within their caps on the wire', () => {
  it('cuts a 5,000,000-character body at the largest max_chars and says so', async () => {
    const call = await t.server.call('ms365_get_message', { id: bigId, max_chars: 100_000 });
    expect(call.isError, call.text).toBe(false);
    expect(resultBytes(call)).toBeLessThanOrEqual(100_000 * 3 + 16_384);
    expect(call.text).toContain('[… cut at 100000 of 5000000 characters]');
    expect(fenceProblems(call.text, 'bbbb')).toEqual([]);
    expect(call.structured).toBeUndefined();
  });

  it('reads a 3 MB file with the largest max_bytes within it, truncated', async () => {
    const call = await t.server.call('ms365_read_file', {
      path: 'Documents/huge.txt',
      max_bytes: MAX_RESULT_BYTES,
    });
    expect(call.isError, call.text).toBe(false);
    expect(resultBytes(call)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    expect(call.text.split('\n')[0]).toMatch(/only \(truncated; ms365_download_file gets all of it\)$/);
    expect(fenceProblems(call.text, 'line of text')).toEqual([]);
  });

  it('holds fifty messages with 200,000-character subjects to the cap, with the cursor for the rest', async () => {
    const call = await t.server.call('ms365_list_messages', { top: 50 });
    expect(call.isError, call.text).toBe(false);
    expect(resultBytes(call)).toBeLessThanOrEqual(DEFAULT_RESULT_BYTES);
    expect(fenceProblems(call.text, 'ssss')).toEqual([]);
    expect(doubledPayload(call)).toEqual([]);
    expect(call.text).toContain('50 messages (truncated; more exist). next_cursor: ');
  });
});
