// resource.Quantity: "500m", "1.5Gi", "2e3", ... Values are kept exactly as a
// count of nano-units (bigint), which is upstream's finest precision: anything
// finer is rounded up (away from zero) when parsed.
import { QuantityParseError } from './errors';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

const FORMAT_REGEX_SOURCE = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
const FORMAT_REGEX = new RegExp(FORMAT_REGEX_SOURCE);
const ERR_FORMAT_WRONG = `quantities must match the regular expression '${FORMAT_REGEX_SOURCE}'`;
const ERR_SUFFIX = "unable to parse quantity's suffix";
const ERR_NUMERIC = 'unable to parse numeric part of quantity';

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL_SUFFIX_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_SUFFIX_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** Guards against "1e999999" turning into a gigantic bigint. */
const MAX_DECIMAL_EXPONENT = 1000;

const NANOS_PER_UNIT = 1_000_000_000n;

function pow10(exponent: number): bigint {
  return 10n ** BigInt(exponent);
}

/** Division rounding away from zero, upstream's inf.RoundUp. */
function divideRoundingUp(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  if (quotient * denominator === numerator) return quotient;
  return numerator < 0n ? quotient - 1n : quotient + 1n;
}

export class Quantity {
  private constructor(
    /** The value times 10^9. */
    readonly nanos: bigint,
    /** The notation the value was written in; canonical output keeps it. */
    readonly format: QuantityFormat,
  ) {}

  /** Parses a quantity string (or a JSON number); throws QuantityParseError. */
  static parse(input: string | number): Quantity {
    const text = typeof input === 'number' ? numberToString(input) : input;
        const match = FORMAT_REGEX.exec(text);
    if (!match) throw new QuantityParseError(ERR_FORMAT_WRONG, text);
    const numberPart = match[1] ?? '';
    const suffix = match[2] ?? '';
    const numberMatch = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/.exec(numberPart);
    if (!numberMatch || `${numberMatch[2] ?? ''}${numberMatch[3] ?? ''}`.length === 0) {
      throw new QuantityParseError(ERR_FORMAT_WRONG, text);
    }
    const negative = numberMatch[1] === '-';
    const whole = numberMatch[2] ?? '';
    const fraction = numberMatch[3] ?? '';
    if (fraction.length > MAX_DECIMAL_EXPONENT) throw new QuantityParseError(ERR_NUMERIC, text);
    let mantissa = BigInt(`${whole}${fraction}` || '0');
    if (negative) mantissa = -mantissa;

    let format: QuantityFormat;
    let decimalExponent = 0;
    let binaryPower = 0;
    if (suffix in DECIMAL_SUFFIXES) {
      format = 'DecimalSI';
      decimalExponent = DECIMAL_SUFFIXES[suffix] ?? 0;
    } else if (suffix in BINARY_SUFFIXES) {
      format = 'BinarySI';
      binaryPower = BINARY_SUFFIXES[suffix] ?? 0;
    } else if (/^[eE][-+]?[0-9]+$/.test(suffix)) {
      format = 'DecimalExponent';
      decimalExponent = Number.parseInt(suffix.slice(1), 10);
      if (Math.abs(decimalExponent) > MAX_DECIMAL_EXPONENT) throw new QuantityParseError(ERR_NUMERIC, text);
    } else {
      throw new QuantityParseError(ERR_SUFFIX, text);
    }

    let scaled = mantissa * 2n ** BigInt(10 * binaryPower);
    const nanosExponent = decimalExponent + 9 - fraction.length;
    scaled = nanosExponent >= 0 ? scaled * pow10(nanosExponent) : divideRoundingUp(scaled, pow10(-nanosExponent));
    return new Quantity(scaled, format);
  }

  /** Like parse, but returns undefined instead of throwing. */
  static tryParse(input: string | number | undefined | null): Quantity | undefined {
    if (input === undefined || input === null) return undefined;
    try {
      return Quantity.parse(input);
    } catch {
      return undefined;
    }
  }

  static fromNanos(nanos: bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(nanos, format);
  }

  /** e.g. fromMilli(250) is "250m" (CPU). */
  static fromMilli(milli: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(BigInt(milli) * 1_000_000n, format);
  }

  /** e.g. fromValue(1073741824, 'BinarySI') is "1Gi". */
  static fromValue(value: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
    if (typeof value === 'number' && !Number.isInteger(value)) {
      return new Quantity(BigInt(Math.ceil(value * 1e9)), format);
    }
    return new Quantity(BigInt(value) * NANOS_PER_UNIT, format);
  }

  static zero(format: QuantityFormat = 'DecimalSI'): Quantity {
    return new Quantity(0n, format);
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.nanos === 0n ? 0 : this.nanos < 0n ? -1 : 1;
  }

  /** The value rounded up to a whole unit (cores, bytes). */
  value(): number {
    return Number(divideRoundingUp(this.nanos, NANOS_PER_UNIT));
  }

  /** The value in thousandths, rounded up (millicores). */
  milliValue(): number {
    return Number(divideRoundingUp(this.nanos, 1_000_000n));
  }

  /** The value as a float, for ratios (HPA utilisation); not exact. */
  asNumber(): number {
    return Number(this.nanos) / 1e9;
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos === other.nanos ? 0 : this.nanos < other.nanos ? -1 : 1;
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  /** Sum; keeps this quantity's format unless this one is zero (as upstream). */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.isZero() ? other.format : this.format);
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.isZero() ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.nanos, this.format);
  }

  /** The canonical string upstream prints (and stores) for this value. */
  toString(): string {
    if (this.nanos === 0n) return '0';
    const sign = this.nanos < 0n ? '-' : '';
    const magnitude = this.nanos < 0n ? -this.nanos : this.nanos;
    let format = this.format;
    if (format === 'BinarySI' && (magnitude < 1024n * NANOS_PER_UNIT || magnitude % NANOS_PER_UNIT !== 0n)) {
      // Small or fractional binary values would need rounding: show them in decimal.
      format = 'DecimalSI';
    }
    if (format === 'BinarySI') {
      let units = magnitude / NANOS_PER_UNIT;
      let power = 0;
      while (units % 1024n === 0n && power < BINARY_SUFFIX_BY_POWER.length - 1) {
        units /= 1024n;
        power += 1;
      }
      return `${sign}${units}${BINARY_SUFFIX_BY_POWER[power] ?? ''}`;
    }
    let mantissa = magnitude;
    let exponent = -9;
    while (mantissa % 1000n === 0n && (format === 'DecimalExponent' || exponent < 18)) {
      mantissa /= 1000n;
      exponent += 3;
    }
    const suffix =
      format === 'DecimalExponent' ? (exponent === 0 ? '' : `e${exponent}`) : (DECIMAL_SUFFIX_BY_EXPONENT.get(exponent) ?? '');
    return `${sign}${mantissa}${suffix}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

function numberToString(value: number): string {
  // String(1e21) is "1e+21", which the grammar accepts as an exponent.
  return String(value);
}

/** Parses a quantity; throws QuantityParseError with upstream's message. */
export function parseQuantity(input: string | number): Quantity {
  return Quantity.parse(input);
}

/** The canonical form of a quantity string ("1000m" -> "1", "2048Ki" -> "2Mi"). */
export function canonicalQuantity(input: string | number): string {
  return Quantity.parse(input).toString();
}

/** Compares two quantity strings; throws on malformed input. */
export function compareQuantities(a: string | number, b: string | number): -1 | 0 | 1 {
  return Quantity.parse(a).cmp(Quantity.parse(b));
}
