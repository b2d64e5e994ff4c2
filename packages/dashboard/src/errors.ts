// The browser bundle carries no runtime code of core, so the message format of
// core's `invalidOption` is repeated here.
function describeValue(value: unknown): string {
  if (typeof value === 'string') return `\`"${value}"\` (string)`;
  if (typeof value === 'function') return '`[function]` (function)';
  if (value === null) return '`null`';
  if (value === undefined) return '`undefined`';
  let text: string;
  try {
    text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return `\`${text}\` (${typeof value})`;
}

/** Throws a `TypeError` naming the option, what it expects and what it got. */
export function invalidOption(option: string, expected: string, value: unknown): never {
  throw new TypeError(`Expected \`${option}\` to be ${expected}, got ${describeValue(value)}`);
}
