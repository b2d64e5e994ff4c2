import type { IDistributedTaskRequest } from '@taskbuffer/core';
import { expect } from 'vitest';
import type { RedisClaimResult, RedisCoordinator } from '../src/index.js';

let sequence = 0;

/** A task name no other test uses. */
export function uniqueTask(): string {
  return `task-${++sequence}-${Math.random().toString(36).slice(2, 8)}`;
}

/** The current second, as a scheduler would send it. */
export function currentTick(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

export function request(
  submitterId: string,
  taskName: string,
  tick: number,
  status: IDistributedTaskRequest['status'] = 'requesting',
): IDistributedTaskRequest {
  return {
    submitterId,
    requestResponseId: `${submitterId}:${taskName}:${tick}`,
    taskName,
    taskVersion: '1',
    taskExecutionTime: tick,
    taskExecutionTimeout: 0,
    taskExecutionParallel: 1,
    status,
  };
}

/**
 * The whole protocol through every coordinator given (each an instance of the
 * same service): all claim one tick, exactly one is granted, the task's state
 * reads back, and the winner records its outcome. Resolves with the grant.
 */
export async function expectOneGrant(
  instances: RedisCoordinator[],
  taskName: string = uniqueTask(),
  tick: number = currentTick(),
): Promise<RedisClaimResult> {
  const results = await Promise.all(
    instances.map((instance, index) => instance.fireDistributedTaskRequest(request(`instance-${index}`, taskName, tick))),
  );
  const granted = results.filter((result) => result.shouldTrigger);
  expect(granted, JSON.stringify(results)).toHaveLength(1);
  for (const result of results) expect(result.considered, result.reason).toBe(true);
  const winner = granted[0]!;
  const reader = instances[instances.length - 1]!;
  expect(await reader.getTaskState(taskName)).toMatchObject({
    lastTick: tick,
    owner: winner.submitterId,
    fence: winner.fence,
    status: 'running',
  });
  // The outcome is recorded by the process that holds the claim.
  const holder = instances[results.indexOf(winner)]!;
  expect(await holder.recordOutcome(request(winner.submitterId, taskName, tick, 'succeeded'))).toBe('recorded');
  return winner;
}
