import { localFilesFor, z, type CliContext, type LocalFiles } from '@switchyard/core';

/** ms365's local files: core's policy, with `MS365_DOWNLOAD_DIR` replacing the default download folder. */
export function ms365Files(ctx: CliContext): LocalFiles {
  return localFilesFor(ctx, { downloadDir: ctx.env.MS365_DOWNLOAD_DIR || undefined });
}

/** The arguments of a tool that saves a download to local disk (a drive file, a mail attachment). */
export const saveToDiskInput = {
  folder: z.string().max(1024).optional().describe('Local folder; else ~/Downloads/ms365-mcp.'),
  save_as: z.string().max(255).optional().describe('Local file name.'),
};

/** It writes to local disk, so --read-only leaves it out; it never overwrites, so it destroys nothing. */
export const SAVES_TO_DISK = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
} as const;
