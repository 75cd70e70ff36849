// A large upload as an MCP task (the io.modelcontextprotocol/tasks extension of MCP 2026-07-28), driven by the
// official ext-tasks client against the fake Graph's upload sessions: polled, cancelled, resumed.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { callAsTask, openTaskSession, taskState } from '@switchyard/testkit';
import { MB, type Drive } from './fake/graph.js';
import { ALICE, withWorld } from './helpers.js';

let drive: Drive;

describe('ms365_upload_file as a task', () => {
  const t = withWorld({
    folders: ['local'],
    seed: (world) => {
      drive = world.graph.drive(ALICE);
    },
    server: ({ dirs }) => ({ args: ['--allow-dir', dirs.local], era: 'modern' }),
  });

  it('a file past the simple-upload limit: a handle at once, the bytes sent while it runs, then the item', async () => {
    const file = join(t.dirs.local, 'dataset.bin');
    writeFileSync(file, randomBytes(12 * MB));
    // Each chunk takes a while, as on a real line: the client polls between them.
    t.world.graph.service.inject({ method: 'PUT', path: /^\/upload\/drive\//, delayMs: 700, times: 3 });
    const session = openTaskSession(t.server);
    try {
      const call = await callAsTask(session, 'ms365_upload_file', {
        local_path: file,
        drive_path: 'Data/big.bin',
      });
      expect(call.kind).toBe('task');
      const item = drive.byPath('Data/big.bin')!;
      expect(call.text).toBe(`Uploaded big.bin (12 MB). id: ${item.id}`);
      expect(item.content.equals(readFileSync(file))).toBe(true);
      expect(call.seen.some((s) => /^uploaded \d/.test(s.message ?? ''))).toBe(true);
    } finally {
      t.world.graph.service.clearFaults();
      await session.close();
    }
  });

  it('a small file is uploaded at once, no task', async () => {
    const file = join(t.dirs.local, 'note.txt');
    writeFileSync(file, 'hello');
    const session = openTaskSession(t.server);
    try {
      const call = await callAsTask(session, 'ms365_upload_file', { local_path: file });
      expect(call.kind).toBe('immediate');
      expect(call.text).toMatch(/^Uploaded note\.txt \(5 B\)\. id: /);
    } finally {
      await session.close();
    }
  });

  it('cancelled: the upload stops, nothing appears in the drive, and the next call resumes it', async () => {
    const file = join(t.dirs.local, 'video.mp4');
    writeFileSync(file, randomBytes(12 * MB));
    t.world.graph.service.inject({ method: 'PUT', path: /^\/upload\/drive\//, delayMs: 1_500, times: 3 });
    const session = openTaskSession(t.server);
    try {
      const call = await callAsTask(
        session,
        'ms365_upload_file',
        { local_path: file, drive_path: 'Media/video.mp4' },
        { cancelWhen: (task) => /^uploaded \d/.test(task.statusMessage ?? '') },
      );
      expect(call.outcome.status).toBe('cancelled');
      await expect
        .poll(() => taskState(t.server, call.taskId!))
        .toMatchObject({
          status: 'cancelled',
          statusMessage: expect.stringMatching(
            /^The upload of video\.mp4 was cancelled at \d+(\.\d)? MB of 12 MB; call the tool again with the same arguments to resume it\.$/,
          ),
        });
      expect(drive.byPath('Media/video.mp4')).toBeUndefined();
    } finally {
      t.world.graph.service.clearFaults();
      await session.close();
    }
    const again = await t.server.call('ms365_upload_file', {
      local_path: file,
      drive_path: 'Media/video.mp4',
    });
    expect(again.text).toMatch(/^Uploaded video\.mp4 \(12 MB\); resumed at \d+(\.\d)? MB\. id: /);
    expect(drive.byPath('Media/video.mp4')!.content.equals(readFileSync(file))).toBe(true);
  });
});
