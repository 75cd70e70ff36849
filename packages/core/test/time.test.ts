import { describe, expect, it } from 'vitest';
import { checkTimeZone, isTimeZone, wallClock, wallTimeToInstant, zoneOffsetMs } from '@switchyard/core';

describe('time zones', () => {
  it('knows IANA names and refuses others with a hint', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone(undefined)).toBe(false);
    expect(checkTimeZone('UTC')).toBe('UTC');
    expect(() => checkTimeZone('CEST+1')).toThrow("'CEST+1' is not an IANA time zone");
  });

  it('reads wall-clock time and offsets across daylight saving', () => {
    expect(wallClock(Date.UTC(2025, 6, 1, 10, 30, 5), 'Europe/Berlin')).toEqual([2025, 7, 1, 12, 30, 5]);
    expect(zoneOffsetMs(Date.UTC(2025, 0, 15), 'Europe/Berlin')).toBe(3_600_000);
    expect(zoneOffsetMs(Date.UTC(2025, 6, 15), 'Europe/Berlin')).toBe(7_200_000);
    expect(zoneOffsetMs(Date.UTC(2025, 6, 15), 'America/New_York')).toBe(-4 * 3_600_000);
  });

  it('turns a wall-clock time into the instant, on both sides of a DST change', () => {
    expect(wallTimeToInstant([2025, 3, 30, 1, 30, 0], 'Europe/Berlin').toISOString()).toBe(
      '2025-03-30T00:30:00.000Z',
    );
    expect(wallTimeToInstant([2025, 3, 30, 3, 30, 0], 'Europe/Berlin').toISOString()).toBe(
      '2025-03-30T01:30:00.000Z',
    );
    expect(wallTimeToInstant([2025, 11, 2, 12, 0, 0], 'America/New_York').toISOString()).toBe(
      '2025-11-02T17:00:00.000Z',
    );
  });
});
