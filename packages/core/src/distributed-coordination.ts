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
  status: 'requesting' | 'gotRejected' | 'failed' | 'succeeded';
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
  /** Records how a run ended (`succeeded` or `failed`). */
  abstract updateDistributedTaskRequest(request: IDistributedTaskRequest): Promise<void>;
  abstract start(): Promise<void>;
  abstract stop(): Promise<void>;
}

/**
 * A coordinator for instances that share one process (tests, workers in one
 * process): per task it remembers the latest claimed tick and grants each
 * tick once. The same `requestResponseId` always gets the same answer.
 */
export class InMemoryCoordinator extends AbstractDistributedCoordinator {
  readonly #lastTick = new Map<string, { tick: number; owner: string; fence: number }>();
  readonly #answers = new Map<string, IDistributedTaskRequestResult>();
  readonly #outcomes = new Map<string, IDistributedTaskRequest['status']>();
  #fence = 0;

  async fireDistributedTaskRequest(request: IDistributedTaskRequest): Promise<IDistributedTaskRequestResult> {
    const previous = this.#answers.get(request.requestResponseId);
    if (previous !== undefined) return previous;
    const claimed = this.#lastTick.get(request.taskName);
    let result: IDistributedTaskRequestResult;
    if (claimed !== undefined && request.taskExecutionTime <= claimed.tick) {
      result = {
        submitterId: request.submitterId,
        requestResponseId: request.requestResponseId,
        considered: true,
        rank: 0,
        reason: claimed.tick === request.taskExecutionTime ? 'tick already claimed' : 'a later tick was claimed',
        shouldTrigger: false,
      };
    } else {
      const fence = ++this.#fence;
      this.#lastTick.set(request.taskName, { tick: request.taskExecutionTime, owner: request.submitterId, fence });
      result = {
        submitterId: request.submitterId,
        requestResponseId: request.requestResponseId,
        considered: true,
        rank: fence,
        reason: 'claimed',
        shouldTrigger: true,
      };
    }
    this.#answers.set(request.requestResponseId, result);
    return result;
  }

  async updateDistributedTaskRequest(request: IDistributedTaskRequest): Promise<void> {
    this.#outcomes.set(request.requestResponseId, request.status);
  }

  /** How a request's run ended, as reported by `updateDistributedTaskRequest`. */
  getOutcome(requestResponseId: string): IDistributedTaskRequest['status'] | undefined {
    return this.#outcomes.get(requestResponseId);
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
