import { jsonBytes } from '@switchyard/core';

/** A tool call as a test holds it (testkit's ToolCall). */
interface Call {
  result: unknown;
  text: string;
  structured: Record<string, unknown> | undefined;
}

/** The bytes of a call's whole result as it travelled (text, structuredContent, links). */
export function resultBytes(call: Call): number {
  return jsonBytes(call.result);
}

/**
 * What makes an answer carry its payload twice: rows or a list of records in `structuredContent` (tabular data
 * travels once, as the text's CSV), a long string of the structure repeated in the text, or a structure larger
 * than a quarter of the text (plus 256 bytes for ids and counts). Empty when the payload travels once.
 */
export function doubledPayload(call: Call): string[] {
  const problems: string[] = [];
  const data = call.structured;
  if (!data) return problems;
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      // Rows (arrays), or records two or more of whose values stand in the text too (column metadata, a name
      // and a type the text does not show, is not a copy).
      const copies = value.filter((v) =>
        Array.isArray(v)
          ? v.length > 0
          : v !== null &&
            typeof v === 'object' &&
            Object.values(v).filter(
              (x) => (typeof x === 'string' || typeof x === 'number') && call.text.includes(String(x)),
            ).length >= 2,
      );
      if (value.length > 1 && copies.length > value.length / 2)
        problems.push(`${path} holds ${value.length} rows or records beside the text`);
      value.forEach((v, i) => visit(v, `${path}[${i}]`));
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`);
    } else if (typeof value === 'string' && value.length >= 64 && call.text.includes(value)) {
      problems.push(`${path} repeats ${value.length} characters of the text`);
    }
  };
  visit(data, 'structuredContent');
  const structureBytes = jsonBytes(data);
  const textBytes = Buffer.byteLength(call.text);
  if (structureBytes > textBytes / 4 + 256)
    problems.push(`structuredContent is ${structureBytes} bytes beside ${textBytes} bytes of text`);
  return problems;
}
