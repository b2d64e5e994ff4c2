export { CronScheduler } from './cron-scheduler.js';
export type { CronSchedulerOptions, NextRunsOptions, SchedulerClock } from './cron-scheduler.js';
export { InvalidCronExpressionError } from './errors.js';
