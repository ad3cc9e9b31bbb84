import { formatInZone, formatRfc1123Z, isValidTimeZone, mostRecentScheduleTime, nextScheduleDelayMs, parseSchedule, ScheduleError } from './schedule';

const at = (iso: string): number => Date.parse(iso);

describe('cron schedules', () => {
  test.each<[string, string, string, string]>([
    // [schedule, zone, after, next]
    ['*/5 * * * *', 'UTC', '2024-05-01T10:02:00Z', '2024-05-01T10:05:00Z'],
    ['* * * * *', 'UTC', '2024-05-01T10:00:00Z', '2024-05-01T10:01:00Z'],
    ['0 9 * * 1-5', 'UTC', '2024-05-03T10:00:00Z', '2024-05-06T09:00:00Z'],
    ['0 9 * * *', 'America/New_York', '2024-05-01T10:02:00Z', '2024-05-01T13:00:00Z'],
    ['@hourly', 'UTC', '2024-05-01T10:02:00Z', '2024-05-01T11:00:00Z'],
    ['@daily', 'Europe/Berlin', '2024-05-01T10:02:00Z', '2024-05-01T22:00:00Z'],
    ['@midnight', 'UTC', '2024-05-01T10:02:00Z', '2024-05-02T00:00:00Z'],
    ['@weekly', 'UTC', '2024-05-01T10:02:00Z', '2024-05-05T00:00:00Z'],
    ['@every 90s', 'UTC', '2024-05-01T10:02:00.400Z', '2024-05-01T10:03:30Z'],
    ['@every 1h30m', 'UTC', '2024-05-01T10:00:00Z', '2024-05-01T11:30:00Z'],
  ])('"%s" in %s: after %s comes %s', (schedule, zone, after, next) => {
    expect(new Date(parseSchedule(schedule, zone).next(at(after))).toISOString()).toBe(new Date(at(next)).toISOString());
  });

  test.each(['61 * * * *', '* * * *', '0 0 0 * * *', '@often', '@every soon', '59 23 31 2 *', ''])('"%s" is rejected', (schedule) => {
    expect(() => parseSchedule(schedule, 'UTC')).toThrow(ScheduleError);
  });

  test('time zones', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(formatInZone(at('2024-05-01T10:00:00Z'), 'UTC')).toBe('2024-05-01T10:00:00Z');
    expect(formatInZone(at('2024-05-01T10:00:00Z'), 'Europe/Berlin')).toBe('2024-05-01T12:00:00+02:00');
    expect(formatInZone(at('2024-01-15T10:00:00Z'), 'America/New_York')).toBe('2024-01-15T05:00:00-05:00');
    expect(formatRfc1123Z(at('2024-05-01T10:00:00Z'))).toBe('Wed, 01 May 2024 10:00:00 +0000');
  });

  const everyMinute = parseSchedule('* * * * *', 'UTC');
  test.each<[string, string | undefined, string, number | undefined, string | undefined, string]>([
    // [case, last schedule, now, startingDeadlineSeconds, most recent unmet run, missed]
    ['nothing due yet', '2024-05-01T10:00:00Z', '2024-05-01T10:00:30Z', undefined, undefined, 'none'],
    ['one run due', '2024-05-01T10:00:00Z', '2024-05-01T10:01:10Z', undefined, '2024-05-01T10:01:00Z', 'none'],
    ['a few missed: the latest', '2024-05-01T10:00:00Z', '2024-05-01T10:05:10Z', undefined, '2024-05-01T10:05:00Z', 'few'],
    ['more than 100 missed', '2024-05-01T07:00:00Z', '2024-05-01T10:05:10Z', undefined, '2024-05-01T10:05:00Z', 'many'],
    ['the deadline bounds the search', '2024-05-01T07:00:00Z', '2024-05-01T10:05:10Z', 60, '2024-05-01T10:05:00Z', 'none'],
    ['no run within the deadline', '2024-05-01T07:00:00Z', '2024-05-01T10:05:30Z', 20, undefined, 'none'],
  ])('most recent run: %s', (_name, last, now, deadline, expected, missed) => {
    const window = mostRecentScheduleTime(everyMinute, last === undefined ? undefined : at(last), at('2024-05-01T06:00:00Z'), at(now), deadline);
    expect(window.mostRecentMs === undefined ? undefined : new Date(window.mostRecentMs).toISOString()).toBe(expected === undefined ? undefined : new Date(at(expected)).toISOString());
    expect(window.missed).toBe(missed);
  });

  test('the next wake-up is the next run plus 100 ms', () => {
    const fiveMinutes = parseSchedule('*/5 * * * *', 'UTC');
    expect(nextScheduleDelayMs(fiveMinutes, at('2024-05-01T10:00:00Z'), at('2024-05-01T09:00:00Z'), at('2024-05-01T10:00:30Z'))).toBe(270_100);
  });
});
