// CronJob schedules as upstream reads them (robfig/cron's standard parser):
// five fields (minute hour day-of-month month day-of-week), the descriptors
// @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly, and
// "@every <duration>", evaluated in an IANA time zone. Parsing lives in
// @kube-lite/api (the API server validates with it); the missed-run
// accounting here is upstream's mostRecentScheduleTime.
import { isValidTimeZone, parseSchedule, ScheduleError, type CronSchedule } from '@kube-lite/api';

export { isValidTimeZone, parseSchedule, ScheduleError, type CronSchedule };

/** The time zone of this process: where upstream evaluates schedules of CronJobs without spec.timeZone. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export type MissedSchedules = 'none' | 'few' | 'many';
/** Upstream warns (TooManyMissedTimes) past this many missed runs. */
export const MANY_MISSED_SCHEDULES = 100;

export interface ScheduleWindow {
  /** Where the search for unmet runs started: the last run, the creation, or the starting deadline. */
  earliestMs: number;
  /** The latest run due at or before now, if any is unmet. */
  mostRecentMs: number | undefined;
  missed: MissedSchedules;
}

/**
 * The latest scheduled time in (earliest, now], earliest being the last
 * scheduled run (or the creation), moved up to now - startingDeadlineSeconds
 * when `startingDeadlineSeconds` is given (upstream mostRecentScheduleTime).
 */
export function mostRecentScheduleTime(schedule: CronSchedule, lastScheduleMs: number | undefined, createdMs: number, nowMs: number, startingDeadlineSeconds: number | undefined): ScheduleWindow {
  let earliestMs = lastScheduleMs ?? createdMs;
  if (startingDeadlineSeconds !== undefined) earliestMs = Math.max(earliestMs, nowMs - startingDeadlineSeconds * 1000);
  const first = schedule.next(earliestMs);
  const second = schedule.next(first);
  if (nowMs < first) return { earliestMs, mostRecentMs: undefined, missed: 'none' };
  if (nowMs < second) return { earliestMs, mostRecentMs: first, missed: 'none' };
  const intervalSeconds = Math.round((second - first) / 1000);
  if (intervalSeconds < 1) throw new ScheduleError('time difference between two schedules is less than 1 second');
  // Skip ahead by the (approximate) interval, then walk to the exact latest run; bounded however long the gap.
  const missedCount = Math.floor((nowMs - first) / 1000 / intervalSeconds) + 1;
  let mostRecentMs = first + Math.max(0, missedCount - 1 - 5) * intervalSeconds * 1000;
  for (let at = schedule.next(mostRecentMs), steps = 0; at <= nowMs && steps < 10_000; at = schedule.next(at), steps += 1) mostRecentMs = at;
  return { earliestMs, mostRecentMs, missed: missedCount > MANY_MISSED_SCHEDULES ? 'many' : 'few' };
}

/** Upstream pads requeues by 100 ms so a slightly early wake-up still finds the run due. */
export const NEXT_SCHEDULE_PADDING_MS = 100;

/** How long until the next run is due (upstream nextScheduleTimeDuration). */
export function nextScheduleDelayMs(schedule: CronSchedule, lastScheduleMs: number | undefined, createdMs: number, nowMs: number): number {
  let fromMs: number;
  try {
    const window = mostRecentScheduleTime(schedule, lastScheduleMs, createdMs, nowMs, undefined);
    fromMs = window.mostRecentMs ?? (window.missed === 'none' ? window.earliestMs : nowMs);
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    fromMs = nowMs;
  }
  return schedule.next(fromMs) + NEXT_SCHEDULE_PADDING_MS - nowMs;
}

/** RFC 3339 in the given zone, "Z" for a zero offset (Go's time.RFC3339 of a time in that location). */
export function formatInZone(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'longOffset',
  }).formatToParts(new Date(ms));
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((candidate) => candidate.type === type)?.value ?? '';
  const offset = part('timeZoneName').replace('GMT', '');
  const zero = offset === '' || /^[+-]00:00$/.test(offset);
  return `${part('year')}-${part('month')}-${part('day')}T${part('hour')}:${part('minute')}:${part('second')}${zero ? 'Z' : offset}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.RFC1123Z of a UTC time: "Mon, 02 Jan 2006 15:04:05 +0000" (upstream's MissSchedule message). */
export function formatRfc1123Z(ms: number): string {
  const date = new Date(ms);
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${DAYS[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}
