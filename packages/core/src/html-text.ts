import { stripInvisible } from './untrusted.js';

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  '#39': "'",
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1]?.toLowerCase() === 'x' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : '';
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/**
 * HTML to plain text for a model: scripts, styles, comments, `<head>` and elements hidden by `hidden`,
 * `aria-hidden`, an inline style (display, visibility, opacity, tiny fonts, collapsed boxes, off-screen
 * positions) or a text colour equal to the background it sits on are dropped with their content; block
 * elements become line breaks; links keep their target.
 */
export function htmlToText(html: string): string {
  let s = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|head|title|template|noscript|svg)\b[\s\S]*?<\/\1\s*>/gi, '');
  s = removeHiddenElements(s);
  s = s
    .replace(
      /<a\b[^>]*href\s*=\s*["']([^"']+)["'][^>]*>([\s\S]*?)<\/a>/gi,
      (_w, href: string, text: string) => {
        const inner = text.replace(/<[^>]+>/g, '').trim();
        return inner && !href.startsWith('mailto:') && inner !== href ? `${inner} (${href})` : inner || href;
      },
    )
    .replace(/<(br|hr)\b[^>]*>/gi, '\n')
    .replace(/<li\b[^>]*>/gi, '\n- ')
    .replace(/<\/(p|div|h[1-6]|tr|table|ul|ol|blockquote|section|article|header|footer)>/gi, '\n')
    .replace(/<(td|th)\b[^>]*>/gi, ' ')
    .replace(/<[^>]+>/g, '');
  return normalizeWhitespace(stripInvisible(decodeEntities(s)));
}

const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
]);

type Rgb = readonly [number, number, number];

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

// The named colours mail and web pages use most; an unknown name leaves the colour unknown (never hidden).
const NAMED: Record<string, Rgb> = {
  white: WHITE,
  snow: [255, 250, 250],
  ivory: [255, 255, 240],
  ghostwhite: [248, 248, 255],
  whitesmoke: [245, 245, 245],
  floralwhite: [255, 250, 240],
  mintcream: [245, 255, 250],
  azure: [240, 255, 255],
  aliceblue: [240, 248, 255],
  seashell: [255, 245, 238],
  linen: [250, 240, 230],
  honeydew: [240, 255, 240],
  black: BLACK,
  red: [255, 0, 0],
  green: [0, 128, 0],
  lime: [0, 255, 0],
  blue: [0, 0, 255],
  navy: [0, 0, 128],
  yellow: [255, 255, 0],
  orange: [255, 165, 0],
  gray: [128, 128, 128],
  grey: [128, 128, 128],
  silver: [192, 192, 192],
  lightgray: [211, 211, 211],
  lightgrey: [211, 211, 211],
  gainsboro: [220, 220, 220],
  darkgray: [169, 169, 169],
  darkgrey: [169, 169, 169],
  maroon: [128, 0, 0],
  purple: [128, 0, 128],
  teal: [0, 128, 128],
  olive: [128, 128, 0],
  aqua: [0, 255, 255],
  cyan: [0, 255, 255],
  fuchsia: [255, 0, 255],
  magenta: [255, 0, 255],
};

/** A CSS colour as RGB; 'transparent' for a fully transparent one; undefined when it cannot be read. */
function parseColor(value: string): Rgb | 'transparent' | undefined {
  const v = value
    .trim()
    .toLowerCase()
    .replace(/\s*!important$/, '');
  if (v === 'transparent') return 'transparent';
  if (NAMED[v]) return NAMED[v];
  let m = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/.exec(v);
  if (m) {
    const hex = m[1]!;
    const short = hex.length <= 4;
    const at = (i: number) =>
      short ? parseInt(hex[i]! + hex[i]!, 16) : parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    const alpha = hex.length === 4 || hex.length === 8 ? at(3) / 255 : 1;
    return alpha < 0.1 ? 'transparent' : [at(0), at(1), at(2)];
  }
  m = /^rgba?\(\s*([\d.]+%?)[\s,]+([\d.]+%?)[\s,]+([\d.]+%?)(?:[\s,/]+([\d.]+%?))?\s*\)$/.exec(v);
  if (m) {
    const channel = (s: string) => (s.endsWith('%') ? (parseFloat(s) * 255) / 100 : parseFloat(s));
    const alpha = m[4] === undefined ? 1 : m[4].endsWith('%') ? parseFloat(m[4]) / 100 : parseFloat(m[4]);
    return alpha < 0.1 ? 'transparent' : [channel(m[1]!), channel(m[2]!), channel(m[3]!)];
  }
  return undefined;
}

/** The background colour a `background` shorthand paints, or unknown when it draws an image or gradient. */
function parseBackground(value: string): Rgb | 'transparent' | 'unknown' {
  if (/url\(|gradient\(/i.test(value)) return 'unknown';
  for (const token of value.match(/[a-z]+\([^)]*\)|#[0-9a-f]+|[a-z]+/gi) ?? []) {
    const c = parseColor(token);
    if (c) return c;
  }
  return 'unknown';
}

const sameColor = (a: Rgb, b: Rgb): boolean => a.every((x, i) => Math.abs(x - b[i]!) <= 16);

/** Inline style declarations, property names lower-cased; the last one of a property wins. */
function parseStyle(attrs: string): Map<string, string> {
  const m = /(?:^|\s)style\s*=\s*("([^"]*)"|'([^']*)')/i.exec(attrs);
  const style = new Map<string, string>();
  for (const decl of decodeEntities(m?.[2] ?? m?.[3] ?? '').split(';')) {
    const colon = decl.indexOf(':');
    if (colon > 0) style.set(decl.slice(0, colon).trim().toLowerCase(), decl.slice(colon + 1).trim());
  }
  return style;
}

function attr(attrs: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|\\s)${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs);
  return m ? (m[2] ?? m[3] ?? m[4]) : undefined;
}

/** A length in CSS pixels (em and rem as 16px, % of 16px, pt as 4/3 px); undefined when not a plain length. */
function lengthPx(value: string | undefined, unitless: 'em' | 'px' = 'px'): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(-?[\d.]+)\s*(px|pt|pc|em|rem|ex|ch|%|mm|q|in|cm|vw|vh)?\s*(!important)?$/i.exec(value.trim());
  if (!m) return undefined;
  const x = parseFloat(m[1]!);
  if (!Number.isFinite(x)) return undefined;
  const unit = (m[2] ?? (unitless === 'em' ? 'em' : 'px')).toLowerCase();
  const perUnit: Record<string, number> = {
    px: 1,
    pt: 4 / 3,
    pc: 16,
    em: 16,
    rem: 16,
    ex: 8,
    ch: 8,
    '%': 0.16,
    mm: 3.78,
    q: 0.945,
    in: 96,
    cm: 37.8,
    vw: 10,
    vh: 10,
  };
  return x * (perUnit[unit] ?? 1);
}

/** Below this many pixels text is not readable: a font size or line box that small hides what it holds. */
const TINY_PX = 3;

function hiddenByStyle(style: Map<string, string>): boolean {
  const get = (p: string) =>
    style
      .get(p)
      ?.toLowerCase()
      .replace(/\s*!important$/, '');
  if (get('display') === 'none' || /^(hidden|collapse)$/.test(get('visibility') ?? '')) return true;
  const opacity = get('opacity');
  if (opacity !== undefined && parseFloat(opacity) < (opacity.endsWith('%') ? 5 : 0.05)) return true;
  if (get('color') === 'transparent') return true;
  const font = lengthPx(get('font-size'));
  if (font !== undefined && font < TINY_PX) return true;
  const clipped = /hidden|clip/.test(`${get('overflow') ?? ''} ${get('overflow-y') ?? ''}`);
  const line = lengthPx(get('line-height'), 'em');
  if (clipped && line !== undefined && line < TINY_PX) return true;
  for (const p of ['height', 'max-height', 'width', 'max-width']) {
    const size = lengthPx(get(p));
    if (size !== undefined && size < TINY_PX && (clipped || p.startsWith('max-'))) return true;
  }
  for (const p of ['left', 'top', 'text-indent', 'margin-left', 'margin-top']) {
    const at = lengthPx(get(p));
    if (at !== undefined && at <= -500) return true;
  }
  if (/scale\(\s*0(\.0*)?\s*[,)]/.test(get('transform') ?? '')) return true;
  return /inset\(\s*50%|rect\(\s*0(px)?[\s,]+0(px)?[\s,]+0(px)?[\s,]+0(px)?\s*\)/.test(
    `${get('clip-path') ?? ''} ${get('clip') ?? ''}`,
  );
}

interface Painted {
  tag: string;
  color: Rgb | undefined;
  /** undefined: an image, a gradient or a colour we cannot read is behind the text. */
  background: Rgb | undefined;
}

/**
 * Remove each element hidden by an attribute or inline style, or whose text colour equals the background
 * it is drawn on (its own or one inherited from an ancestor; a page with none is white), with everything
 * inside it.
 */
function removeHiddenElements(html: string): string {
  const open = /<(\/?)([a-z][a-z0-9]*)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/gi;
  const stack: Painted[] = [{ tag: '', color: BLACK, background: WHITE }];
  let out = '';
  let copied = 0;
  for (let m = open.exec(html); m; m = open.exec(html)) {
    const tag = m[2]!.toLowerCase();
    if (m[1]) {
      const at = stack.map((p) => p.tag).lastIndexOf(tag);
      if (at > 0) stack.length = at;
      continue;
    }
    const attrs = m[3] ?? '';
    const style = parseStyle(attrs);
    const parent = stack[stack.length - 1]!;
    const colorValue = style.get('color') ?? (tag === 'font' ? attr(attrs, 'color') : undefined);
    const parsedColor = colorValue === undefined ? parent.color : parseColor(colorValue);
    const bgValue = style.get('background-color') ?? style.get('background') ?? attr(attrs, 'bgcolor');
    const parsedBg = bgValue === undefined ? parent.background : parseBackground(bgValue);
    const painted: Painted = {
      tag,
      color: parsedColor === 'transparent' ? undefined : parsedColor,
      background:
        parsedBg === 'transparent' ? parent.background : parsedBg === 'unknown' ? undefined : parsedBg,
    };
    const hidden =
      /(^|\s)hidden(\s|=|$)/i.test(attrs) ||
      /aria-hidden\s*=\s*["']?true/i.test(attrs) ||
      hiddenByStyle(style) ||
      parsedColor === 'transparent' ||
      (painted.color !== undefined &&
        painted.background !== undefined &&
        sameColor(painted.color, painted.background));
    if (!hidden) {
      if (!VOID.has(tag) && !m[0].endsWith('/>')) stack.push(painted);
      continue;
    }
    let end = m.index + m[0].length;
    if (!VOID.has(tag) && !m[0].endsWith('/>')) {
      const walker = new RegExp(`<(/?)${tag}\\b[^>]*>`, 'gi');
      walker.lastIndex = end;
      let depth = 1;
      for (let t = walker.exec(html); t; t = walker.exec(html)) {
        depth += t[1] ? -1 : 1;
        if (depth === 0) {
          end = t.index + t[0].length;
          break;
        }
      }
      if (depth !== 0) end = html.length;
    }
    out += html.slice(copied, m.index);
    copied = end;
    open.lastIndex = end;
  }
  return out + html.slice(copied);
}

function normalizeWhitespace(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\f\v\u00A0]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
