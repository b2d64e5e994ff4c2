import type { Clock } from './clock.js';
import { invalidOption } from './errors.js';

/** Checks a `clock` option: an object with `now`, `setTimeout` and `clearTimeout` functions. */
export function validateClock(option: string, value: unknown): Clock {
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Clock).now !== 'function' ||
    typeof (value as Clock).setTimeout !== 'function' ||
    typeof (value as Clock).clearTimeout !== 'function'
  ) {
    invalidOption(option, 'a Clock with `now`, `setTimeout` and `clearTimeout` functions', value);
  }
  return value as Clock;
}

/** Checks an optional boolean option. */
export function validateBoolean(option: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') invalidOption(option, 'a boolean', value);
  return value;
}

/**
 * Checks the key of `setLabel`. `__proto__` is refused: assigning it to a
 * plain object would not set a label but try to change the object's prototype.
 */
export function validateLabelKey(key: unknown): string {
  if (typeof key !== 'string') invalidOption('key', 'a string', key);
  if (key === '__proto__') invalidOption('key', 'a label name other than `"__proto__"`', key);
  return key;
}
