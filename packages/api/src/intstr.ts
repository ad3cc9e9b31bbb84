// intstr.IntOrString: JSON is either a number or a string ("25%", "http").
import { IntOrStringError } from './errors';

export type IntOrString = number | string;

/** True when the value is a percentage string such as "25%". */
export function isPercent(value: IntOrString | undefined): value is string {
  return typeof value === 'string' && value.endsWith('%');
}

/**
 * Resolves an int-or-percent against `total`, as upstream's
 * GetScaledValueFromIntOrPercent: plain numbers are returned as they are,
 * "N%" becomes N% of total rounded up or down as asked. Throws
 * IntOrStringError for any other string.
 */
export function scaledValueFromIntOrPercent(value: IntOrString | undefined, total: number, roundUp: boolean): number {
  if (value === undefined) throw new IntOrStringError('nil value for IntOrString');
  if (typeof value === 'number') return value;
  if (!value.endsWith('%')) {
    throw new IntOrStringError('invalid value for IntOrString: invalid type: string is not a percentage');
  }
  const digits = value.slice(0, -1);
  if (!/^-?[0-9]+$/.test(digits)) throw new IntOrStringError(`invalid value "${value}": invalid syntax`);
  const percent = Number.parseInt(digits, 10);
  const exact = (percent * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * The Deployment rolling-update fence posts: maxSurge rounds up,
 * maxUnavailable rounds down, and when both come out 0 maxUnavailable
 * becomes 1 so a rollout can make progress (upstream ResolveFenceposts).
 */
export function resolveFenceposts(
  maxSurge: IntOrString | undefined,
  maxUnavailable: IntOrString | undefined,
  desiredReplicas: number,
): { surge: number; unavailable: number } {
  const surge = scaledValueFromIntOrPercent(maxSurge ?? 0, desiredReplicas, true);
  let unavailable = scaledValueFromIntOrPercent(maxUnavailable ?? 0, desiredReplicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}
