import type { Clock, ScheduleOptions, SchedulerPort } from '@taskbuffer/core';
import { TaskManager } from '@taskbuffer/core';
import { describe, expectTypeOf, it } from 'vitest';
import { CronScheduler, type CronSchedulerOptions, InvalidCronExpressionError, type SchedulerClock } from './index.js';

describe('CronScheduler', () => {
  it('implements the scheduler port and plugs into a TaskManager', () => {
    expectTypeOf<CronScheduler>().toMatchTypeOf<SchedulerPort>();
    expectTypeOf(new TaskManager({ scheduler: new CronScheduler() }).scheduler).toEqualTypeOf<SchedulerPort | undefined>();
  });

  it('types its options', () => {
    expectTypeOf<CronSchedulerOptions['overlap']>().toEqualTypeOf<'skip' | 'allow' | undefined>();
    expectTypeOf<CronSchedulerOptions['catchUp']>().toEqualTypeOf<'none' | 'last' | undefined>();
    expectTypeOf<SchedulerClock>().toMatchTypeOf<Clock>();
    // @ts-expect-error an unknown overlap policy
    new CronScheduler({ overlap: 'queue' });
    // @ts-expect-error the time zone is a string
    new CronScheduler({ timezone: 1 });
  });

  describe('schedule', () => {
    it('takes core schedule options', () => {
      expectTypeOf<CronScheduler['schedule']>().parameter(2).toEqualTypeOf<ScheduleOptions | undefined>();
    });
  });

  describe('nextRuns', () => {
    it('returns dates and accepts a Date or epoch ms as `from`', () => {
      const scheduler = new CronScheduler();
      expectTypeOf(scheduler.nextRuns('* * * * *', 3)).toEqualTypeOf<Date[]>();
      scheduler.nextRuns('* * * * *', 3, { from: new Date(), timezone: 'UTC' });
      scheduler.nextRuns('* * * * *', 3, { from: 0 });
      // @ts-expect-error `from` is a Date or a number
      scheduler.nextRuns('* * * * *', 3, { from: '2026-01-01' });
    });
  });

  it('exposes the invalid expression on its error', () => {
    expectTypeOf<InvalidCronExpressionError['expression']>().toEqualTypeOf<string>();
    expectTypeOf<InvalidCronExpressionError>().toMatchTypeOf<Error>();
  });
});
