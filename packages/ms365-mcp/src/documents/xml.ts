/**
 * Streaming XML walk for the parts of an office file, on saxes (no DTD processing, so no entity expansion:
 * an undeclared entity is an error, never a billion laughs). The walk stops between chunks once `stop()` says
 * so, which keeps a huge sheet's cost at the rows actually shown.
 */
import { SaxesParser } from 'saxes';

export interface XmlHandlers {
  open?(name: string, attrs: Record<string, string>): void;
  close?(name: string): void;
  text?(text: string): void;
  stop?(): boolean;
}

const CHUNK = 64 * 1024;

export function walkXml(xml: Buffer | string, h: XmlHandlers): void {
  const parser = new SaxesParser();
  let failure: Error | undefined;
  parser.on('error', (err) => {
    failure ??= err;
  });
  if (h.open) {
    const open = h.open;
    parser.on('opentag', (tag) => open(tag.name, tag.attributes as Record<string, string>));
  }
  if (h.close) {
    const close = h.close;
    parser.on('closetag', (tag) => close(tag.name));
  }
  if (h.text) {
    const text = h.text;
    parser.on('text', text);
    parser.on('cdata', text);
  }
  const s = typeof xml === 'string' ? xml : xml.toString('utf8');
  for (let i = 0; i < s.length; i += CHUNK) {
    parser.write(s.slice(i, i + CHUNK));
    if (failure) throw new Error(`damaged XML (${failure.message.split('\n')[0]})`);
    if (h.stop?.()) return;
  }
  parser.close();
  if (failure) throw new Error(`damaged XML (${(failure as Error).message.split('\n')[0]})`);
}

/** `w:t` → `t`: OOXML prefixes are conventional, not fixed. */
export function local(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

/** The relationships of a part (`word/_rels/document.xml.rels`): id → { target resolved against the part, type }. */
export function relationships(
  xml: Buffer | undefined,
  partPath: string,
): Map<string, { target: string; type: string }> {
  const rels = new Map<string, { target: string; type: string }>();
  if (!xml) return rels;
  const dir = partPath.includes('/') ? partPath.slice(0, partPath.lastIndexOf('/') + 1) : '';
  walkXml(xml, {
    open(name, a) {
      if (local(name) !== 'Relationship' || !a.Id || !a.Target || a.TargetMode === 'External') return;
      rels.set(a.Id, { target: resolvePart(dir, a.Target), type: a.Type ?? '' });
    },
  });
  return rels;
}

function resolvePart(dir: string, target: string): string {
  const parts = (target.startsWith('/') ? target.slice(1) : dir + target).split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') out.pop();
    else if (p !== '.' && p !== '') out.push(p);
  }
  return out.join('/');
}
