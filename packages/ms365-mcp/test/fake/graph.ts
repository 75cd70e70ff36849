// A stateful Microsoft Graph on testkit's FakeService, speaking the documented wire format: bearer tokens
// checked with FakeAuthority (scopes included), mailboxes whose sent mail lands in Sent Items and whose
// drafts can be sent, folders, attachments with $value and upload sessions, @odata.nextLink paging,
// $search that refuses $filter/$orderby, a calendar view that expands recurring series, findMeetingTimes,
// drives with upload sessions that check chunk sizes and ranges, SharePoint sites and libraries, the
// mailbox concurrency limit, shared mailboxes and delegated calendars under /users/{id}/… with per-mailbox rights,
// and failure injection (FakeService.inject plus upload faults).
//
// One file per area under graph/: core.ts (state, bearer and rights check, paging, errors), users.ts, mail.ts
// (with mailbox.ts, the mail store), calendar.ts, drive.ts (with drive-store.ts), uploads.ts and sites.ts; the OData
// subset is odata.ts, sharing is sharing.ts. This file assembles them and exports what tests use.
import { FakeService, type FakeAuthority } from '@switchyard/testkit';
import { installCalendar } from './graph/calendar.js';
import { GraphCore } from './graph/core.js';
import { installDrives } from './graph/drive.js';
import { installMail } from './graph/mail.js';
import { installSites } from './graph/sites.js';
import { installUploads } from './graph/uploads.js';
import { installUsers } from './graph/users.js';

export { CONSUMER_TENANT, MB, graphId, type MailboxRights } from './graph/common.js';
export type { FakeEvent } from './graph/calendar.js';
export { Drive, type FakeItem, type FakeSite, type UploadFault } from './graph/drive-store.js';
export {
  Mailbox,
  type Addr,
  type FakeAttachment,
  type FakeFolder,
  type FakeMessage,
} from './graph/mailbox.js';

export class FakeGraph extends GraphCore {
  static async start(authority: FakeAuthority): Promise<FakeGraph> {
    const service = await FakeService.start('fake Microsoft Graph');
    const graph = new FakeGraph(service, authority);
    // Registered in this order, as FakeService matches routes in order.
    installUsers(graph);
    installMail(graph);
    installCalendar(graph);
    installDrives(graph);
    installUploads(graph);
    installSites(graph);
    return graph;
  }
}
