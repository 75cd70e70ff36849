// What every area of the fake Graph shares: units, Graph-shaped ids, MIME types, the scopes each kind of route
// needs, and the context a guarded handler gets.
import { randomBytes } from 'node:crypto';
import type { IssuedToken } from '@switchyard/testkit';

export const MB = 1024 * 1024;
export const UNIT = 320 * 1024;
export const CONSUMER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

/** Ids shaped like Graph's: long base64url strings (a message id is 152 characters). */
export function graphId(prefix = 'AAMkAGI2', bytes = 108): string {
  return prefix + randomBytes(bytes).toString('base64url');
}

export interface Ctx {
  /** The mailbox the request works in: the signed-in user's, or the one named by `/users/{id}`. */
  user: string;
  /** The signed-in user, when the request reaches another mailbox through `/users/{id}`. */
  delegate?: string;
  token: IssuedToken;
  prefer: Record<string, string>;
}

export const MIME: Record<string, string> = {
  txt: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
  pdf: 'application/pdf',
  // OneDrive's MIME types for Office files, as driveItem.file.mimeType reports them.
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  doc: 'application/msword',
  xls: 'application/vnd.ms-excel',
  ppt: 'application/vnd.ms-powerpoint',
  zip: 'application/zip',
  png: 'image/png',
};
export const mimeOf = (name: string) =>
  MIME[name.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';

export const MAIL_READ = ['Mail.Read', 'Mail.ReadWrite'];
export const MAIL_WRITE = ['Mail.ReadWrite'];
export const MAIL_SEND = ['Mail.Send'];
export const CAL_READ = ['Calendars.Read', 'Calendars.ReadWrite'];
export const CAL_WRITE = ['Calendars.ReadWrite'];
export const CAL_SHARED = ['Calendars.Read.Shared', 'Calendars.ReadWrite.Shared'];
export const FILES_READ = [
  'Files.Read',
  'Files.Read.All',
  'Files.ReadWrite',
  'Files.ReadWrite.All',
  'Sites.Read.All',
];
export const FILES_WRITE = ['Files.ReadWrite', 'Files.ReadWrite.All'];
export const SITES_READ = ['Sites.Read.All', 'Sites.ReadWrite.All'];

/**
 * What one user may do in another's mailbox, as Exchange grants it: Full Access and Send As (admin), Send on Behalf,
 * and calendar delegation or sharing (the owner, in Outlook). learn.microsoft.com/graph/outlook-share-messages-folders,
 * /graph/outlook-send-mail-from-other-user, /graph/outlook-get-shared-events-calendars.
 */
export interface MailboxRights {
  fullAccess?: boolean;
  sendAs?: boolean;
  sendOnBehalf?: boolean;
  calendar?: 'read' | 'write';
}

/** The mailbox right each kind of `/users/{id}/…` route needs. */
export type Right = 'mail.read' | 'mail.write' | 'mail.send' | 'calendar.read' | 'calendar.write';
export const RIGHT = new Map<string[], Right>([
  [MAIL_READ, 'mail.read'],
  [MAIL_WRITE, 'mail.write'],
  [MAIL_SEND, 'mail.send'],
  [CAL_READ, 'calendar.read'],
  [CAL_WRITE, 'calendar.write'],
]);
