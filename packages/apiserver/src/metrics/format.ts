// How metrics-server writes figures: CPU as a canonical quantity of
// nanocores ("1234567n", "250m"), memory as a binary quantity of bytes
// ("12345Ki"), the window as a Go duration ("15.012s", "1m0s").

import { parseQuantity } from '@kube-lite/api';

export function formatCpuNanoCores(nanoCores: number): string {
  return parseQuantity(`${Math.max(0, Math.round(nanoCores))}n`).toString();
}

const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

export function formatMemoryBytes(bytes: number): string {
  let units = Math.max(0, Math.round(bytes));
  let power = 0;
  while (units >= 1024 && units % 1024 === 0 && power < BINARY_SUFFIXES.length - 1) {
    units /= 1024;
    power += 1;
  }
  return `${units}${BINARY_SUFFIXES[power] ?? ''}`;
}

/** Go's time.Duration.String() for a whole number of milliseconds. */
export function formatGoDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const secondsMs = total % 60_000;
  const whole = Math.floor(secondsMs / 1000);
  const fraction = String(secondsMs % 1000).padStart(3, '0').replace(/0+$/, '');
  const seconds = `${whole}${fraction === '' ? '' : `.${fraction}`}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}
