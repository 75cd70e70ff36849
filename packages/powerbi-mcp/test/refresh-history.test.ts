// Refresh history in words (src/refresh.ts), without a server: serviceExceptionJson decoded (the
// `{"errorCode","errorDescription"}` form the fake serves in fake/powerbi.ts, and a Power BI error body), and which
// history entry is the refresh this call started when Power BI gave no request id.
import { describe, expect, it } from 'vitest';
import type { Refresh } from '../src/powerbi-client.js';
import { decodeServiceException, describeRefresh, refreshStartedSince } from '../src/refresh.js';

describe('serviceExceptionJson', () => {
  it('a known code gets plain words before the upstream text', () => {
    const json = JSON.stringify({
      errorCode: 'DMTS_DatasourceHasNoCredentialError',
      errorDescription: 'Data source error: The credentials provided for the SQL source are invalid.',
    });
    expect(decodeServiceException(json)).toEqual({
      code: 'DMTS_DatasourceHasNoCredentialError',
      message:
        'a data source has no stored credentials: set them in the dataset settings (Data source credentials) — Data source error: The credentials provided for the SQL source are invalid.',
    });
  });

  it("a Power BI error body: the code and its details' text", () => {
    const json = JSON.stringify({
      error: {
        code: 'ModelRefresh_ShortMessage_ProcessingError',
        'pbi.error': { details: [{ code: 'x', detail: { value: 'Column Amount has an error.' } }] },
      },
    });
    expect(decodeServiceException(json)).toEqual({
      code: 'ModelRefresh_ShortMessage_ProcessingError',
      message: 'the model failed while processing the data — Column Amount has an error.',
    });
  });

  it('text that is not JSON is kept (cut at 500 characters); none is nothing', () => {
    expect(decodeServiceException('gateway offline')).toEqual({ message: 'gateway offline' });
    expect(decodeServiceException(`{${'x'.repeat(600)}`).message).toHaveLength(500);
    expect(decodeServiceException(undefined)).toEqual({});
  });

  it('an entry in words: status, duration, failure', () => {
    expect(
      describeRefresh({
        requestId: 'r1',
        refreshType: 'ViaApi',
        status: 'Failed',
        startTime: '2025-03-04T08:00:00Z',
        endTime: '2025-03-04T08:01:30Z',
        serviceExceptionJson: JSON.stringify({ errorCode: 'Other', errorDescription: 'boom' }),
      } as Refresh),
    ).toEqual({
      request_id: 'r1',
      type: 'ViaApi',
      status: 'failed',
      start_time: '2025-03-04T08:00:00Z',
      end_time: '2025-03-04T08:01:30Z',
      duration_seconds: 90,
      error_code: 'Other',
      error: 'boom',
    });
  });
});

describe('the refresh this call started, without a request id', () => {
  const at = Date.parse('2025-03-04T08:00:00Z');
  const entry = (id: number, startTime: string | undefined) => ({ id, startTime }) as Refresh;

  it('never an older refresh; a few seconds of clock skew allowed; the nearest start wins', () => {
    expect(refreshStartedSince([entry(1, '2025-03-04T07:59:00Z')], at)).toBeUndefined();
    expect(refreshStartedSince([entry(2, '2025-03-04T07:59:57Z')], at)?.id).toBe(2);
    expect(
      refreshStartedSince(
        [entry(3, '2025-03-04T08:05:00Z'), entry(4, '2025-03-04T08:00:02Z'), entry(5, undefined)],
        at,
      )?.id,
    ).toBe(4);
  });
});
