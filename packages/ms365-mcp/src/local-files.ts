import { localFilesFor, type CliContext, type LocalFiles } from '@switchyard/core';

/** ms365's local files: core's policy, with `MS365_DOWNLOAD_DIR` replacing the default download folder. */
export function ms365Files(ctx: CliContext): LocalFiles {
  return localFilesFor(ctx, { downloadDir: ctx.env.MS365_DOWNLOAD_DIR || undefined });
}
