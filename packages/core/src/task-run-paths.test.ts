import { describe, expect, it } from 'vitest';
import { Task } from './task.js';

type Kind = 'async-resolve' | 'async-reject' | 'sync-return' | 'sync-throw' | 'thenable';

function taskFunctionOf(kind: Kind) {
  return (input: number): any => {
    switch (kind) {
      case 'async-resolve':
        return Promise.resolve(input * 2);
      case 'async-reject':
        return Promise.reject(new Error(`failed ${input}`));
      case 'sync-return':
        return input * 2;
      case 'sync-throw':
        throw new Error(`threw ${input}`);
      case 'thenable':
        return { then: (resolve: (value: number) => void) => resolve(input * 3) };
    }
  };
}

/**
 * Runs a task twice through one path and records, turn by turn, what a caller
 * and a subscriber see: events, onFinished, settlement and the task's state.
 */
async function trace(kind: Kind, catchErrors: boolean, withSignal: boolean): Promise<string[]> {
  const log: string[] = [];
  const task = new Task({ name: `trace-${kind}`, catchErrors, taskFunction: taskFunctionOf(kind) });
  task.eventSubject.subscribe((event) => log.push(`event:${event.type}:${event.task.status}:${event.error ?? ''}`));
  for (const input of [1, 2]) {
    const options = {
      onFinished: () => log.push(`finished:${task.running}`),
      ...(withSignal ? { signal: new AbortController().signal } : {}),
    };
    const run = task.trigger(input, options);
    log.push(`returned:${task.status}:${task.runCount}`);
    await run.then(
      (value) => log.push(`resolved:${String(value)}`),
      (error: Error) => log.push(`rejected:${error.message}`),
    );
    log.push(`after:${task.status}:${task.runCount}:${task.errorCount}:${task.lastError?.message ?? ''}:${task.running}`);
  }
  return log;
}

describe('Task', () => {
  describe('trigger', () => {
    const kinds: Kind[] = ['async-resolve', 'async-reject', 'sync-return', 'sync-throw', 'thenable'];
    for (const kind of kinds) {
      for (const catchErrors of [false, true]) {
        it(`behaves the same with and without an abort signal (${kind}, catchErrors: ${catchErrors})`, async () => {
          const plain = await trace(kind, catchErrors, false);
          const general = await trace(kind, catchErrors, true);
          expect(plain).toEqual(general);
          expect(plain.filter((line) => line.startsWith('finished:'))).toEqual(['finished:false', 'finished:false']);
        });
      }
    }
  });
});
