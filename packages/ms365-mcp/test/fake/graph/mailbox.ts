// The mailboxes the fake Graph holds, and messages and attachments as Graph's message and fileAttachment resources
// (learn.microsoft.com/graph/api/resources/message, /graph/api/resources/fileattachment).
import { graphId } from './common.js';

export interface Addr {
  name?: string;
  address: string;
}

export const recipient = (a: Addr) => ({ emailAddress: { name: a.name ?? a.address, address: a.address } });
export const fromRecipient = (r: { emailAddress?: { name?: string; address?: string } }): Addr => ({
  address: r.emailAddress?.address ?? '',
  ...(r.emailAddress?.name ? { name: r.emailAddress.name } : {}),
});

export interface FakeAttachment {
  id: string;
  name: string;
  contentType: string;
  bytes: Buffer;
  isInline: boolean;
}

export interface FakeMessage {
  id: string;
  folderId: string;
  subject: string;
  from: Addr;
  /** Who actually sent it, when not `from` (a delegate with Send on Behalf). */
  sender?: Addr;
  to: Addr[];
  cc: Addr[];
  bcc: Addr[];
  received: number;
  sent: number;
  body: { contentType: 'html' | 'text'; content: string };
  isRead: boolean;
  isDraft: boolean;
  importance: 'low' | 'normal' | 'high';
  flagged: boolean;
  attachments: FakeAttachment[];
}

export interface FakeFolder {
  id: string;
  displayName: string;
  parentId: string | undefined;
  wellKnown?: string;
}

const WELL_KNOWN: Array<[string, string]> = [
  ['inbox', 'Inbox'],
  ['drafts', 'Drafts'],
  ['sentitems', 'Sent Items'],
  ['deleteditems', 'Deleted Items'],
  ['archive', 'Archive'],
  ['junkemail', 'Junk Email'],
  ['outbox', 'Outbox'],
];

export class Mailbox {
  readonly root = graphId('AAMkAGI2root', 30);
  readonly folders = new Map<string, FakeFolder>();
  readonly messages = new Map<string, FakeMessage>();

  constructor(readonly owner: Addr) {
    for (const [wellKnown, displayName] of WELL_KNOWN) {
      const id = graphId('AQMkAGI2', 60);
      this.folders.set(id, { id, displayName, parentId: this.root, wellKnown });
    }
  }

  folder(key: string): FakeFolder | undefined {
    const lower = key.toLowerCase();
    return this.folders.get(key) ?? [...this.folders.values()].find((f) => f.wellKnown === lower);
  }

  addFolder(displayName: string, parent?: string): FakeFolder {
    const id = graphId('AQMkAGI2', 60);
    const folder = { id, displayName, parentId: parent ? this.folder(parent)!.id : this.root };
    this.folders.set(id, folder);
    return folder;
  }

  inFolder(key: string): FakeMessage[] {
    const f = this.folder(key);
    return [...this.messages.values()].filter((m) => m.folderId === f?.id);
  }

  add(m: Partial<FakeMessage> & { subject: string }, folder = 'inbox'): FakeMessage {
    const msg: FakeMessage = {
      id: graphId(),
      folderId: this.folder(folder)!.id,
      from: { name: 'Someone', address: 'someone@example.com' },
      to: [this.owner],
      cc: [],
      bcc: [],
      received: Date.now(),
      sent: Date.now(),
      body: { contentType: 'text', content: '' },
      isRead: false,
      isDraft: false,
      importance: 'normal',
      flagged: false,
      attachments: [],
      ...m,
    };
    this.messages.set(msg.id, msg);
    return msg;
  }
}

export function stripHtml(html: string): string {
  return html
    .replace(/<(style|script)[\s\S]*?<\/\1>/gi, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function messageJson(m: FakeMessage): Record<string, unknown> {
  const text =
    m.body.contentType === 'html' ? stripHtml(m.body.content) : m.body.content.replace(/\s+/g, ' ').trim();
  return {
    id: m.id,
    subject: m.subject,
    from: recipient(m.from),
    sender: recipient(m.sender ?? m.from),
    toRecipients: m.to.map(recipient),
    ccRecipients: m.cc.map(recipient),
    bccRecipients: m.bcc.map(recipient),
    receivedDateTime: new Date(m.received).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    sentDateTime: new Date(m.sent).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    bodyPreview: text.slice(0, 255),
    body: { contentType: m.body.contentType, content: m.body.content },
    isRead: m.isRead,
    isDraft: m.isDraft,
    hasAttachments: m.attachments.some((a) => !a.isInline),
    importance: m.importance,
    flag: { flagStatus: m.flagged ? 'flagged' : 'notFlagged' },
    parentFolderId: m.folderId,
    conversationId: 'AAQkAGI2conv',
    webLink: `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(m.id)}&exvsurl=1&viewmodel=ReadMessageItem`,
    internetMessageHeaders: null,
    categories: [],
  };
}

export function attachmentJson(a: FakeAttachment): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    id: a.id,
    name: a.name,
    contentType: a.contentType,
    size: a.bytes.length,
    isInline: a.isInline,
    lastModifiedDateTime: new Date().toISOString(),
    contentBytes: a.bytes.toString('base64'),
  };
}
