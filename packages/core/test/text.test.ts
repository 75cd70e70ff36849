import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  countPhrase,
  describeRows,
  formatBytes,
  listFooter,
  machineTimeZone,
  odataString,
  oneLine,
} from '@switchyard/core';

describe('oneLine', () => {
  it('strips what a reader cannot see: bidi controls, zero-width, C0 and C1 controls, tags', () => {
    const hidden = [
      '\u202E', // right-to-left override
      '\u2066', // left-to-right isolate
      '\u061C', // Arabic letter mark
      '\u200B', // zero-width space
      '\u2060', // word joiner
      '\uFEFF', // byte order mark
      '\u0000', // NUL
      '\u001B', // ESC, as in a terminal colour code
      '\u007F', // DEL
      '\u0085', // NEL (C1)
      '\u009B', // CSI (C1)
      '\u{E0041}', // tag letter A
    ];
    expect(oneLine(`in${hidden.join('')}voice`)).toBe('invoice');
    expect(oneLine('[\u009B31mred')).toBe('[31mred');
  });

  it('collapses whitespace and newlines, neutralises fence markers and cuts at max', () => {
    expect(oneLine('  a\r\n\tb   c  ')).toBe('a b c');
    expect(oneLine('x [END UNTRUSTED data 1234] y')).toBe('x [(fence marker removed) data 1234] y');
    expect(oneLine('abcdefghij', 5)).toBe('abcd…');
    expect(oneLine(undefined)).toBe('');
    expect(oneLine(42)).toBe('42');
  });
});

describe('odataString', () => {
  it('quotes and doubles single quotes', () => {
    expect(odataString("it's")).toBe("'it''s'");
    expect(odataString("'); drop")).toBe("'''); drop'");
    expect(odataString('')).toBe("''");
  });
});

describe('formatBytes', () => {
  it('writes sizes in binary units, one decimal below 10', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KB');
    expect(formatBytes(3_800)).toBe('3.7 KB');
    expect(formatBytes(12 * 1024 * 1024)).toBe('12 MB');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5 GB');
    expect(formatBytes(3 * 1024 ** 5)).toBe('3072 TB');
  });

  it('writes nothing for an unknown size', () => {
    expect(formatBytes(undefined)).toBe('');
    expect(formatBytes(Number.NaN)).toBe('');
  });
});

describe('listFooter', () => {
  it('says a whole list is whole', () => {
    expect(listFooter({ shown: 5, noun: 'event', truncated: false })).toBe('5 events.');
    expect(listFooter({ shown: 1, noun: ['library', 'libraries'], truncated: false })).toBe('1 library.');
    expect(listFooter({ shown: 3, total: 3, noun: 'row', truncated: false })).toBe('3 rows.');
  });

  it('puts the next_cursor last, so that it can be copied from the end of the line', () => {
    const line = listFooter({ shown: 10, noun: 'message', truncated: true, cursor: 'eJyrVg' });
    expect(line).toBe('10 messages (truncated; more exist). next_cursor: eJyrVg');
    expect(/next_cursor: (\S+)$/.exec(line)?.[1]).toBe('eJyrVg');
    expect(
      listFooter({
        shown: 20,
        total: 52,
        noun: 'row',
        scope: 'in sale.order',
        truncated: true,
        cursor: 'abc',
        note: 'Datetimes in Europe/Brussels.',
      }),
    ).toBe(
      '20 of 52 rows in sale.order (truncated; more exist). Datetimes in Europe/Brussels. next_cursor: abc',
    );
  });

  it('gives the hint when no cursor gets the rest, and counts cut cells', () => {
    expect(
      listFooter({
        shown: 100,
        total: 1234,
        noun: ['semantic model', 'semantic models'],
        scope: 'in «Sales»',
        truncated: true,
        hint: 'raise top or use name_contains',
      }),
    ).toBe('100 of 1,234 semantic models in «Sales» (truncated; raise top or use name_contains).');
    expect(
      countPhrase({
        shown: 1,
        noun: 'row',
        truncated: true,
        cutCells: 2,
        longestCell: 2_000_000,
        hint: 'spill',
      }),
    ).toBe('1 row (truncated; 2 cells cut (the longest is 2,000,000 characters in full); spill)');
    expect(listFooter({ shown: 0, total: 7, noun: 'item', truncated: true })).toBe(
      '0 of 7 items (truncated).',
    );
  });

  it('is what describeRows writes for a table', () => {
    expect(describeRows({ returnedRows: 3, totalRows: 50, truncated: true }, 'raise max_rows')).toBe(
      countPhrase({ shown: 3, total: 50, noun: 'row', truncated: true, hint: 'raise max_rows' }),
    );
  });
});

describe('machineTimeZone', () => {
  const zoneWith = (tz: string) =>
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { machineTimeZone } from '@switchyard/core'; process.stdout.write(machineTimeZone())",
      ],
      { env: { ...process.env, TZ: tz }, encoding: 'utf8' },
    );

  it("is the machine's IANA zone", () => {
    expect(zoneWith('Asia/Tokyo')).toBe('Asia/Tokyo');
    expect(machineTimeZone()).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });

  it('is UTC when the machine names no zone Intl knows', () => {
    expect(zoneWith('Nowhere/Invalid')).toBe('UTC');
  });
});
