import { Task } from '@taskbuffer/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureConsole } from './support/console.js';

// README § Quick Start. Each `it` holds one example, verbatim but for the import line;
// stand-ins for what the example leaves undefined come first, assertions after.

describe('README: Quick Start', () => {
  let output: ReturnType<typeof captureConsole>;
  beforeEach(() => {
    output = captureConsole();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('Basic Task', async () => {
    const greetTask = new Task({
      name: 'Greet',
      taskFunction: async (name) => {
        return `Hello, ${name}!`;
      },
    });

    const result = await greetTask.trigger('World');
    console.log(result); // "Hello, World!"

    expect(result).toBe('Hello, World!');
    expect(output.log).toEqual(['Hello, World!']);
  });

  it('Task with Typed Data', async () => {
    const task = new Task<undefined, [], { domain: string; priority: number }>({
      name: 'update-dns',
      data: { domain: 'example.com', priority: 1 },
      taskFunction: async () => {
        // task.data is fully typed here
        console.log(`Updating DNS for ${task.data.domain}`);
      },
    });

    task.data.domain; // string — fully typed
    task.data.priority; // number — fully typed

    expect(task.data).toEqual({ domain: 'example.com', priority: 1 });
    await task.trigger();
    expect(output.log).toEqual(['Updating DNS for example.com']);
  });

  it('Task with Steps & Progress', async () => {
    // Stand-ins: each records which step the task reports while it runs.
    const seen: Array<[string, string | undefined]> = [];
    const work = (name: string) => async () => {
      seen.push([name, deployTask.getMetadata().currentStep]);
    };
    const buildApp = work('buildApp');
    const runTests = work('runTests');
    const deployToServer = work('deployToServer');
    const verifyDeployment = work('verifyDeployment');

    const deployTask = new Task({
      name: 'Deploy',
      steps: [
        { name: 'build', description: 'Building app', percentage: 30 },
        { name: 'test', description: 'Running tests', percentage: 20 },
        { name: 'deploy', description: 'Deploying to server', percentage: 40 },
        { name: 'verify', description: 'Verifying deployment', percentage: 10 },
      ] as const,
      taskFunction: async () => {
        deployTask.notifyStep('build');
        await buildApp();

        deployTask.notifyStep('test');
        await runTests();

        deployTask.notifyStep('deploy');
        await deployToServer();

        deployTask.notifyStep('verify');
        await verifyDeployment();

        return 'Deployment successful!';
      },
    });

    expect(deployTask.getProgress()).toBe(0);
    const result = await deployTask.trigger();
    console.log(deployTask.getProgress()); // 100
    console.log(deployTask.getStepsMetadata()); // Step details with status

    expect(result).toBe('Deployment successful!');
    expect(seen).toEqual([
      ['buildApp', 'build'],
      ['runTests', 'test'],
      ['deployToServer', 'deploy'],
      ['verifyDeployment', 'verify'],
    ]);
    expect(output.log[0]).toBe('100');
    const steps = deployTask.getStepsMetadata();
    expect(steps.map(({ name, description, percentage, status }) => ({ name, description, percentage, status }))).toEqual([
      { name: 'build', description: 'Building app', percentage: 30, status: 'completed' },
      { name: 'test', description: 'Running tests', percentage: 20, status: 'completed' },
      { name: 'deploy', description: 'Deploying to server', percentage: 40, status: 'completed' },
      { name: 'verify', description: 'Verifying deployment', percentage: 10, status: 'completed' },
    ]);
    for (const step of steps) {
      expect(step.startTime).toBeTypeOf('number');
      expect(step.endTime! - step.startTime!).toBe(step.duration);
    }
  });

  it('Task with Steps & Progress: progress follows the step percentages during a run', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const deployTask = new Task({
      name: 'Deploy',
      steps: [
        { name: 'build', description: 'Building app', percentage: 30 },
        { name: 'test', description: 'Running tests', percentage: 20 },
        { name: 'deploy', description: 'Deploying to server', percentage: 40 },
        { name: 'verify', description: 'Verifying deployment', percentage: 10 },
      ] as const,
      taskFunction: async () => {
        deployTask.notifyStep('build');
        deployTask.notifyStep('test');
        await gate;
      },
    });
    const run = deployTask.trigger();
    // `build` is done once `test` starts: 30 %.
    expect(deployTask.getProgress()).toBe(30);
    release();
    await run;
    expect(deployTask.getProgress()).toBe(100);
  });
});
