/** A request by one instance to run one scheduled tick of a task. */
export interface IDistributedTaskRequest {
  /** The instance that asks. */
  submitterId: string;
  /** Unique per instance, task and tick; a retry reuses it. */
  requestResponseId: string;
  taskName: string;
  taskVersion: string;
  /** The scheduled tick, epoch ms; the same on every instance. */
  taskExecutionTime: number;
  /** How long a run may take, in ms. */
  taskExecutionTimeout: number;
  /** How many instances may run this tick at once (1: exactly one). */
  taskExecutionParallel: number;
  /**
   * `requesting` while asking; then how the tick ended on this instance:
   * `succeeded`, `failed`, `cancelled` (granted, then stopped before or while
   * it ran) or `gotRejected` (not granted).
   */
  status: 'requesting' | 'gotRejected' | 'failed' | 'succeeded' | 'cancelled';
}

/** The coordinator's answer to one request. */
export interface IDistributedTaskRequestResult {
  submitterId: string;
  requestResponseId: string;
  /** Whether the request reached a decision at all. */
  considered: boolean;
  rank: number;
  reason: string;
  /** Whether this instance runs the tick. */
  shouldTrigger: boolean;
  /**
   * The fencing number of a granted tick, when the coordinator hands one out:
   * it grows with every grant for the task, so a side effect can refuse a
   * writer holding an older one. The run sees it as `context.fence`. A
   * positive number; `0` means none.
   */
  fence?: number;
}

/**
 * Decides which instance of a cluster runs each scheduled tick. Extend it, or
 * use `RedisCoordinator` from `@taskbuffer/coordinator-redis`.
 */
export abstract class AbstractDistributedCoordinator {
  /** Asks whether this instance should run the tick. */
  abstract fireDistributedTaskRequest(
    request: IDistributedTaskRequest,
  ): Promise<IDistributedTaskRequestResult>;
  /** Records how a run ended (`succeeded`, `failed` or `cancelled`). */
  abstract updateDistributedTaskRequest(request: IDistributedTaskRequest): Promise<void>;
  /**
   * Hands back a tick this instance was granted but never started (it was
   * stopping), so that another instance may still claim and run it. A
   * coordinator that cannot re-grant a tick records it as `cancelled`, which
   * is what this default does.
   */
  abandonDistributedTaskRequest(request: IDistributedTaskRequest): Promise<void> {
    return this.updateDistributedTaskRequest({ ...request, status: 'cancelled' });
  }
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
}

/**
 * A coordinator for instances that share one process (tests, workers in one
 * process): per task it remembers the latest claimed tick and grants each
 * tick once. The same `requestResponseId` gets the same answer while its tick
 * is the task's latest. Memory stays at one small entry per task.
 */
export class InMemoryCoordinator extends AbstractDistributedCoordinator {
  readonly #tasks = new Map<
    string,
    {
      tick: number;
      fence: number;
      /** Answers given for `tick`, by request id. */
      answers: Map<string, IDistributedTaskRequestResult>;
      outcome?: { requestResponseId: string; status: IDistributedTaskRequest['status'] };
      /** The holder handed the tick back before running it: the next claim of it is granted. */
      abandoned?: boolean;
    }
  >();
  #fence = 0;

  async fireDistributedTaskRequest(request: IDistributedTaskRequest): Promise<IDistributedTaskRequestResult> {
    const state = this.#tasks.get(request.taskName);
    const previous = state?.tick === request.taskExecutionTime ? state.answers.get(request.requestResponseId) : undefined;
    if (previous !== undefined) return previous;
    const answer = (shouldTrigger: boolean, rank: number, reason: string): IDistributedTaskRequestResult => ({
      submitterId: request.submitterId,
      requestResponseId: request.requestResponseId,
      considered: true,
      rank,
      reason,
      shouldTrigger,
    });
    if (state !== undefined && request.taskExecutionTime <= state.tick && !(state.abandoned && request.taskExecutionTime === state.tick)) {
      const refused = answer(false, 0, state.tick === request.taskExecutionTime ? 'tick already claimed' : 'a later tick was claimed');
      if (state.tick === request.taskExecutionTime) state.answers.set(request.requestResponseId, refused);
      return refused;
    }
    const fence = ++this.#fence;
    const granted = { ...answer(true, fence, 'claimed'), fence };
    this.#tasks.set(request.taskName, {
      tick: request.taskExecutionTime,
      fence,
      answers: new Map([[request.requestResponseId, granted]]),
    });
    return granted;
  }

  async updateDistributedTaskRequest(request: IDistributedTaskRequest): Promise<void> {
    const state = this.#tasks.get(request.taskName);
    if (state?.tick === request.taskExecutionTime && state.answers.get(request.requestResponseId)?.shouldTrigger) {
      state.outcome = { requestResponseId: request.requestResponseId, status: request.status };
    }
  }

  override async abandonDistributedTaskRequest(request: IDistributedTaskRequest): Promise<void> {
    const state = this.#tasks.get(request.taskName);
    if (
      state === undefined ||
      state.tick !== request.taskExecutionTime ||
      state.outcome !== undefined ||
      state.answers.get(request.requestResponseId)?.shouldTrigger !== true
    ) {
      return;
    }
    state.abandoned = true;
    state.answers.clear();
    state.outcome = { requestResponseId: request.requestResponseId, status: 'cancelled' };
  }

  /** How the latest granted run of a task ended, as reported by `updateDistributedTaskRequest`. */
  getOutcome(requestResponseId: string): IDistributedTaskRequest['status'] | undefined {
    for (const state of this.#tasks.values()) {
      if (state.outcome?.requestResponseId === requestResponseId) return state.outcome.status;
    }
    return undefined;
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
