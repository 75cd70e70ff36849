import { localFilesFor, type CliContext, type LocalFiles } from '@switchyard/core';

/** ms365's local files: core's policy, with `MS365_DOWNLOAD_DIR` replacing the default download folder. */
export function ms365Files(ctx: CliContext): LocalFiles {
  return localFilesFor(ctx, { downloadDir: ctx.env.MS365_DOWNLOAD_DIR || undefined });
}

/** "1.2 MB" */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
