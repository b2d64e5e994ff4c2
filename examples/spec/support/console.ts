import { vi } from 'vitest';

/**
 * Records what the examples print with `console.log` / `console.error`
 * (and keeps it off the test output), so tests can assert what the spec says
 * they print. Call in `beforeEach`; `vi.restoreAllMocks()` undoes it.
 */
export function captureConsole(): { log: string[]; error: string[] } {
  const captured = { log: [] as string[], error: [] as string[] };
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    captured.log.push(args.map(String).join(' '));
  });
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    captured.error.push(args.map(String).join(' '));
  });
  return captured;
}

/** Counts how many calls are inside a section at once, and the most there ever were. */
export class OverlapCounter {
  current = 0;
  max = 0;

  enter(): void {
    this.current++;
    this.max = Math.max(this.max, this.current);
  }

  leave(): void {
    this.current--;
  }
}
