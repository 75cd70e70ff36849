// OneDrive and SharePoint drives the fake Graph holds (driveItem: learn.microsoft.com/graph/api/resources/driveitem),
// and the upload sessions and faults shared by drive and mail uploads.
import { randomBytes } from 'node:crypto';
import type { FakeReply } from '@switchyard/testkit';

export interface FakeItem {
  id: string;
  name: string;
  parentId: string | undefined;
  folder: boolean;
  content: Buffer;
  modified: number;
  /** What Graph's converter renders for `/content?format=pdf` (the fake cannot run Office; a test supplies it). */
  pdfRendition?: Buffer;
}

/**
 * Source types Graph converts with `format=pdf`, from "Download a file in another format"
 * (https://learn.microsoft.com/en-us/graph/api/driveitem-get-content-format): others answer 406 notSupported.
 */
export const PDF_SOURCES = new Set(
  'csv doc docx odp ods odt pot potm potx pps ppsx ppsxm ppt pptm pptx rtf xls xlsx'.split(' '),
);

export class Drive {
  readonly items = new Map<string, FakeItem>();
  readonly rootId: string;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly webUrl: string,
  ) {
    this.rootId = this.newId();
    this.items.set(this.rootId, {
      id: this.rootId,
      name: 'root',
      parentId: undefined,
      folder: true,
      content: Buffer.alloc(0),
      modified: Date.now(),
    });
  }

  newId(): string {
    return `01${randomBytes(20).toString('base64url').toUpperCase().replace(/[-_]/g, 'Q').slice(0, 32)}`;
  }

  children(id: string): FakeItem[] {
    return [...this.items.values()]
      .filter((i) => i.parentId === id)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  byPath(path: string, from = this.rootId): FakeItem | undefined {
    let cur = this.items.get(from);
    for (const part of path.split('/').filter(Boolean)) {
      cur = cur && this.children(cur.id).find((c) => c.name.toLowerCase() === part.toLowerCase());
    }
    return cur;
  }

  pathOf(item: FakeItem): string {
    const names: string[] = [];
    let cur = item.parentId ? this.items.get(item.parentId) : undefined;
    while (cur && cur.id !== this.rootId) {
      names.unshift(cur.name);
      cur = cur.parentId ? this.items.get(cur.parentId) : undefined;
    }
    return `/drive/root:${names.length ? `/${names.join('/')}` : ''}`;
  }

  /** Create folders along a path, then put a file there (replacing one of the same name). */
  put(path: string, content: Buffer | string): FakeItem {
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop()!;
    const parent = this.mkdirs(parts.join('/'));
    const existing = this.children(parent.id).find((c) => c.name.toLowerCase() === name.toLowerCase());
    const item: FakeItem = {
      id: existing?.id ?? this.newId(),
      name,
      parentId: parent.id,
      folder: false,
      content: Buffer.from(content),
      modified: Date.now(),
    };
    this.items.set(item.id, item);
    return item;
  }

  mkdirs(path: string): FakeItem {
    let cur = this.items.get(this.rootId)!;
    for (const part of path.split('/').filter(Boolean)) {
      let next = this.children(cur.id).find((c) => c.name.toLowerCase() === part.toLowerCase());
      if (!next) {
        next = {
          id: this.newId(),
          name: part,
          parentId: cur.id,
          folder: true,
          content: Buffer.alloc(0),
          modified: Date.now(),
        };
        this.items.set(next.id, next);
      }
      cur = next;
    }
    return cur;
  }
}

export interface FakeSite {
  id: string;
  displayName: string;
  name: string;
  webUrl: string;
  drives: Drive[];
}

export interface UploadSession {
  kind: 'drive' | 'mail';
  token: string;
  size: number;
  received: Buffer[];
  next: number;
  expires: number;
  complete: (content: Buffer) => FakeReply;
}

/** How chunk uploads fail, for interruption tests. */
export interface UploadFault {
  /** Only chunks starting at or after this offset fail. */
  fromOffset: number;
  times: number;
  /** `drop`: the connection closes before the chunk is stored; `after-store`: it is stored, then the answer is lost. */
  mode: 'drop' | 'after-store';
}
