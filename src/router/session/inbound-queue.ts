/**
 * A session's messages are handled one at a time, in arrival order. When handling one waits for
 * something asynchronous (an authenticator, a dynamic authorizer), the messages behind it wait
 * too, up to a bound. Plain data plus functions over it: one of these lives in every session.
 */
export interface InboundQueue<M> {
  paused: boolean;
  readonly waiting: M[];
}

/** What a queue calls back, with the owner's context: one shared object, no closures per session. */
export interface QueueHandlers<C, M> {
  handle(context: C, message: M): Promise<void> | void;
  /** A handler threw, or its promise failed. */
  failed(context: C, err: unknown): void;
  /** Too many messages waiting. */
  overflowed(context: C): void;
  isClosed(context: C): boolean;
}

export function createInboundQueue<M>(): InboundQueue<M> {
  return { paused: false, waiting: [] };
}

export function enqueue<C, M>(queue: InboundQueue<M>, message: M, limit: number, context: C, handlers: QueueHandlers<C, M>): void {
  if (!queue.paused) {
    run(queue, message, context, handlers);
    return;
  }
  if (queue.waiting.length >= limit) handlers.overflowed(context);
  else queue.waiting.push(message);
}

function run<C, M>(queue: InboundQueue<M>, message: M, context: C, handlers: QueueHandlers<C, M>): void {
  let pending: Promise<void> | void;
  try {
    pending = handlers.handle(context, message);
  } catch (err) {
    handlers.failed(context, err);
    return;
  }
  if (!(pending instanceof Promise)) return;
  queue.paused = true;
  pending
    .catch((err: unknown) => handlers.failed(context, err))
    .finally(() => {
      queue.paused = false;
      while (!queue.paused && queue.waiting.length > 0 && !handlers.isClosed(context)) run(queue, queue.waiting.shift() as M, context, handlers);
    });
}
