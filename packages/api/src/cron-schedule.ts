// CronJob schedules as upstream reads them (robfig/cron's standard parser):
// five fields (minute hour day-of-month month day-of-week), the descriptors
// @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly, and
// "@every <duration>", evaluated in an IANA time zone. The field arithmetic
// is cron-parser's. Shared by the API server (validation) and the CronJob
// controller (activation times), so both read a schedule the same way.
import { CronExpressionParser } from 'cron-parser';

/** An unparseable or impossible schedule: a user error reported as an event. */
export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';
}

export interface CronSchedule {
  /** The first activation strictly after `afterMs` (whole seconds). */
  next(afterMs: number): number;
}

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const DURATION_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("1h30m", "90s") in ms; undefined when malformed. */
function parseGoDurationMs(text: string): number | undefined {
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? 's'] ?? 0);
    consumed = pattern.lastIndex;
  }
  return text !== '' && consumed === text.length ? total : undefined;
}

/** True for a time zone name the runtime's IANA database knows (upstream time.LoadLocation). */
export function isValidTimeZone(zone: string): boolean {
  if (zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Parses a schedule; throws ScheduleError naming what is wrong. */
export function parseSchedule(schedule: string, timeZone: string): CronSchedule {
  const text = schedule.trim();
  if (text.startsWith('@every ')) {
    const delayMs = parseGoDurationMs(text.slice('@every '.length).trim());
    if (delayMs === undefined) throw new ScheduleError(`failed to parse duration ${text}`);
    // As robfig: at least a second, whole seconds only, counted from the whole second.
    const stepMs = Math.max(1000, Math.floor(delayMs / 1000) * 1000);
    return { next: (afterMs) => Math.floor(afterMs / 1000) * 1000 + stepMs };
  }
  let expression = text;
  if (text.startsWith('@')) {
    const expanded = DESCRIPTORS[text];
    if (expanded === undefined) throw new ScheduleError(`unrecognized descriptor: ${text}`);
    expression = expanded;
  }
  const fields = expression.split(/\s+/).filter((field) => field !== '');
  if (fields.length !== 5) throw new ScheduleError(`expected exactly 5 fields, found ${fields.length}: ${text}`);
  let parsed: ReturnType<typeof CronExpressionParser.parse>;
  try {
    parsed = CronExpressionParser.parse(fields.join(' '), { tz: timeZone, currentDate: new Date(0) });
  } catch (error) {
    throw new ScheduleError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  return {
    next: (afterMs) => {
      try {
        parsed.reset(new Date(afterMs));
        return parsed.next().getTime();
      } catch (error) {
        throw new ScheduleError(`no time matches ${text}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    },
  };
}
