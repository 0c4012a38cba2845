/**
 * The integer check every options module uses (config.ts, gateway/options.ts,
 * workflows/options.ts): a RangeError with the caller's exact message (STYLE.md "Options").
 */

/** Throws `RangeError(message)` unless `value` is an integer between `min` and `max`. */
export function checkInt(value: unknown, min: number, max: number, message: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(message);
  }
}
