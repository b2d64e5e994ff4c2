import { TaskHookError, describeValue } from './errors.js';

/** What the check reads of a task: its name and its hooks. */
interface HookHolder {
  readonly name: string;
  readonly preTask: HookReference | undefined;
  readonly afterTask: HookReference | undefined;
}

type HookReference = HookHolder | (() => HookHolder);

const HOOKS = ['preTask', 'afterTask'] as const;

/**
 * Bumped whenever a hook changes anywhere: a change to one task's hooks can
 * close a cycle in the hooks of any task that reaches it.
 */
let hooksVersion = 0;
/** Tasks whose hooks hold no function and were found sound, with the version then. */
const soundAt = new WeakMap<HookHolder, number>();

/** Call after a task's hooks changed. */
export function hooksChanged(): void {
  hooksVersion++;
}

/**
 * Walks the hooks reachable from `root` and throws a `TaskHookError` when they
 * form a cycle (`a → b → a`) or reach one task twice (`a → b → d` and
 * `a → c → d`): a cycle would run forever, and a task reached twice would run
 * twice per run of `root`.
 *
 * At construction and assignment (`resolveFunctions: false`) a hook given as
 * a function is not called, as what it returns may not exist yet; at trigger
 * time (`true`) it is called and what it returns is checked too.
 */
export function checkHooks(root: HookHolder, resolveFunctions: boolean): void {
  if (soundAt.get(root) === hooksVersion) return;
  let cacheable = true;
  const reached = new Map<HookHolder, HookHolder[]>([[root, [root]]]);
  const visit = (task: HookHolder, path: HookHolder[]): void => {
    for (const option of HOOKS) {
      const reference = task[option];
      if (reference === undefined) continue;
      let hook: HookHolder;
      if (typeof reference === 'function') {
        cacheable = false;
        if (!resolveFunctions) continue;
        hook = reference();
        if (typeof hook !== 'object' || hook === null || typeof (hook as { trigger?: unknown }).trigger !== 'function') {
          throw new TypeError(
            `Expected the \`${option}\` function of task ${quote(task)} to return a Task, got ${describeValue(hook)}`,
          );
        }
      } else {
        hook = reference;
      }
      const start = path.indexOf(hook);
      if (start !== -1) {
        const cycle = [...path.slice(start), hook].map(nameOf);
        throw new TaskHookError(`The hooks of task ${quote(hook)} form a cycle: ${cycle.join(' → ')}`, [cycle]);
      }
      const here = [...path, hook];
      const earlier = reached.get(hook);
      if (earlier !== undefined) {
        const paths = [earlier.map(nameOf), here.map(nameOf)];
        throw new TaskHookError(
          `Task ${quote(hook)} is reached twice through the hooks of ${quote(root)}: ` +
            `${paths[0]!.join(' → ')} and ${paths[1]!.join(' → ')}; use a separate task for each place`,
          paths,
        );
      }
      reached.set(hook, here);
      visit(hook, here);
    }
  };
  visit(root, [root]);
  if (cacheable) soundAt.set(root, hooksVersion);
}

function nameOf(task: HookHolder): string {
  return task.name === '' ? '(unnamed)' : task.name;
}

function quote(task: HookHolder): string {
  return task.name === '' ? 'without a name' : `"${task.name}"`;
}
