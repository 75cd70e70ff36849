/**
 * What every engine checks and says when it changes tables, written once: a merge whose columns differ from
 * the table's, a view over a name that exists, a transform that fails on the data.
 */
import { UserInputError } from '@switchyard/core';
import type { LineageRecord, TableRef } from './types.js';

/** Incoming rows merge only into a table of the same columns (`name type`, in order). */
export function checkMergeColumns(target: TableRef, existing: string[], incoming: string[]): void {
  if (existing.join(',') !== incoming.join(',')) {
    throw new UserInputError(
      `The columns of ${target.layer}.${target.name} (${existing.join(', ')}) differ from the source's (${incoming.join(', ')}), so the new rows cannot be merged`,
      { hint: "Run a sync with sync_mode 'full' to rebuild the table with the source's columns" },
    );
  }
}

/** A view is created over an existing name only when asked to replace it. */
export function checkViewTarget(ref: TableRef, exists: boolean, replace: boolean): void {
  if (exists && !replace) {
    throw new UserInputError(`${ref.layer}.${ref.name} already exists`, {
      hint: 'Pass replace: true to redefine it, or choose another name',
    });
  }
}

/** A view's lineage: the tables its checked SELECT reads, and the SELECT as given. */
export function viewLineage(ref: TableRef, selectSql: string, tables: string[]): LineageRecord {
  return { target: ref, kind: 'view', inputs: tables, definition: selectSql };
}

/** A transform the engine refused while running over the data; our own errors pass as they are. */
export function transformError(err: unknown, engineMessage: (err: unknown) => string): Error {
  if (err instanceof Error && 'kind' in err) return err;
  return new UserInputError(`The transform failed on the data: ${engineMessage(err)}`, {
    hint: "Fix the step named in the message, or set on_invalid: 'null' to turn values that do not convert into NULL; nothing was changed",
  });
}
