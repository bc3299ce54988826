/**
 * The delivery loop: claims due deliveries from the outbox, sends them, and records each attempt's
 * outcome; wakes when a commit stored new deliveries (`notify`) or when the earliest retry is due.
 *
 * What keeps the contract's promises lives in the queue (the store): a claim hands out only the
 * first undelivered delivery of each (webhook, deployment) lane, and leases it by moving its
 * `next_attempt_at` past the attempt's deadline, so a worker that dies mid-attempt (kill -9) leaves
 * a delivery that is claimed again, with the same id, once the lease runs out; results are guarded
 * by the attempt number, so a late result of an expired lease changes nothing. The worker itself
 * keeps no state that a crash could lose.
 */
import type { Logger } from "pino";
import { AppError } from "../errors.js";
import { nextAttemptAt, type RetrySchedule } from "./retry-schedule.js";
import type { HttpSender } from "./http-sender.js";
import { deliveryHeaders } from "./signature.js";

type Awaitable<T> = T | Promise<T>;

/** A delivery handed to this worker for one attempt. */
export interface ClaimedDelivery {
  readonly delivery: string;
  readonly webhook: string;
  readonly url: string;
  /** The secret as stored (sealed); opened only to sign. */
  readonly sealedSecret: string;
  readonly eventType: string;
  /** The event exactly as published, serialized once; signed and sent as is. */
  readonly body: string;
  /** This attempt's number, 1-based (the claim counted it). */
  readonly attempt: number;
  readonly firstAttemptAt: Date;
}

/** What one attempt ended as; `record` applies it only if the delivery is still at `attempt`. */
export type AttemptRecord =
  | { readonly outcome: "delivered"; readonly delivery: string; readonly attempt: number; readonly status: number; readonly at: Date }
  | {
      readonly outcome: "retry";
      readonly delivery: string;
      readonly attempt: number;
      readonly status: number | null;
      readonly error: string;
      readonly at: Date;
      readonly nextAttemptAt: Date;
    }
  | { readonly outcome: "failed"; readonly delivery: string; readonly attempt: number; readonly status: number | null; readonly error: string; readonly at: Date };

/** What the worker needs from the store. */
export interface DeliveryQueue {
  /** Leases up to `limit` due lane heads until `leaseUntil`, counting the attempt. */
  claim(input: { readonly now: Date; readonly limit: number; readonly leaseUntil: Date }): Awaitable<readonly ClaimedDelivery[]>;
  /** Applies outcomes in one go (guarded by delivery id and attempt number). */
  record(records: readonly AttemptRecord[]): Awaitable<void>;
  /** The earliest time a lane head becomes due (leases included), or null when nothing waits. */
  nextDueAt(): Awaitable<Date | null>;
}

export interface DeliveryWorkerOptions {
  readonly queue: DeliveryQueue;
  readonly sender: HttpSender;
  /** Opens a sealed secret (secret-box.ts); throws when it cannot. */
  readonly openSecret: (webhook: string, sealed: string) => string;
  readonly schedule: RetrySchedule;
  /** The sender's deadline; a claim is leased for this plus `leaseMarginMs`. */
  readonly timeoutMs: number;
  readonly leaseMarginMs?: number;
  /** Attempts in flight at once (default 64); a lane never has more than one. */
  readonly concurrency?: number;
  readonly clock?: () => Date;
  readonly logger?: Logger;
  /** Called after every recorded batch (metrics, tests). */
  readonly onRecorded?: (records: readonly AttemptRecord[]) => void;
}

export interface DeliveryWorker {
  start(): void;
  /** New deliveries may be due now (call after a commit that stored some). */
  notify(): void;
  /** Stops claiming, waits for the attempts in flight (each bounded by the deadline), records them. */
  stop(): Promise<void>;
}

/** How long the loop waits before claiming again after the store failed. */
const storeRetryMs = 1000;
/** A due time already past when the loop goes idle means a claim raced a commit: look again soon, not in a spin. */
const minTimerMs = 5;

export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { queue, sender, schedule } = options;
  const clock = options.clock ?? (() => new Date());
  const concurrency = Math.max(1, options.concurrency ?? 64);
  const leaseMs = options.timeoutMs + (options.leaseMarginMs ?? 5000);
  const log = options.logger;

  let running = false;
  let pumping = false;
  let again = false;
  let inFlight = 0;
  let timer: NodeJS.Timeout | null = null;
  let idle: (() => void) | null = null;
  const results: AttemptRecord[] = [];
  // Opened secrets by webhook, so a busy webhook is not decrypted per delivery; keyed by the sealed
  // value too, so a changed row is opened again. Bounded: it is cleared when it grows past the cap.
  const secrets = new Map<string, { sealed: string; secret: string }>();
  const openSecret = (webhook: string, sealed: string): string => {
    const hit = secrets.get(webhook);
    if (hit?.sealed === sealed) return hit.secret;
    const secret = options.openSecret(webhook, sealed);
    if (secrets.size >= 10_000) secrets.clear();
    secrets.set(webhook, { sealed, secret });
    return secret;
  };

  const setTimer = (at: Date | null) => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!running || at === null) return;
    timer = setTimeout(() => {
      timer = null;
      wake();
    }, Math.max(minTimerMs, at.getTime() - clock().getTime()));
  };

  // Wake-ups of one turn of the event loop are coalesced: finished attempts are recorded and
  // replaced by new claims in one store call each, not one per attempt.
  let scheduled = false;
  const wake = () => {
    if (pumping) {
      again = true;
      return;
    }
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (pumping) again = true;
      else void pump();
    });
  };

  const pump = async (): Promise<void> => {
    pumping = true;
    try {
      do {
        again = false;
        if (results.length > 0) {
          const batch = results.splice(0);
          await queue.record(batch);
          options.onRecorded?.(batch);
        }
        const free = concurrency - inFlight;
        if (running && free > 0) {
          const now = clock();
          const claimed = await queue.claim({ now, limit: free, leaseUntil: new Date(now.getTime() + leaseMs) });
          for (const c of claimed) void runAttempt(c);
        }
      } while (again);
      // With every slot busy, a finishing attempt wakes the loop; a timer then would only spin.
      if (running && inFlight < concurrency) setTimer(await queue.nextDueAt());
    } catch (err) {
      log?.error({ err: AppError.from(err).message }, "webhook delivery loop: store operation failed; retrying");
      if (running) setTimer(new Date(clock().getTime() + storeRetryMs));
    } finally {
      pumping = false;
    }
    if (again) wake();
    else if (!running && inFlight === 0 && results.length === 0) idle?.();
  };

  const runAttempt = async (c: ClaimedDelivery): Promise<void> => {
    inFlight += 1;
    let record: AttemptRecord;
    try {
      const secret = openSecret(c.webhook, c.sealedSecret);
      const outcome = await sender.send({
        url: c.url,
        body: c.body,
        headers: deliveryHeaders({ eventType: c.eventType, deliveryId: c.delivery, secret, body: c.body }),
      });
      const at = clock();
      if (outcome.ok) {
        record = { outcome: "delivered", delivery: c.delivery, attempt: c.attempt, status: outcome.status, at };
      } else {
        record = failure(c, outcome.status, outcome.error, at);
      }
    } catch (err) {
      // Only opening the secret can throw here; its message names no secret.
      record = failure(c, null, AppError.from(err).message, clock());
    }
    if (record.outcome !== "delivered") {
      log?.info({ webhook: c.webhook, delivery: c.delivery, attempt: c.attempt, status: record.status, outcome: record.outcome }, "webhook delivery attempt failed");
    }
    results.push(record);
    inFlight -= 1;
    wake();
  };

  const failure = (c: ClaimedDelivery, status: number | null, error: string, at: Date): AttemptRecord => {
    const next = nextAttemptAt(schedule, { attempt: c.attempt, firstAttemptAt: c.firstAttemptAt, failedAt: at });
    return next === null
      ? { outcome: "failed", delivery: c.delivery, attempt: c.attempt, status, error, at }
      : { outcome: "retry", delivery: c.delivery, attempt: c.attempt, status, error, at, nextAttemptAt: next };
  };

  return {
    start() {
      if (running) return;
      running = true;
      wake();
    },
    notify() {
      if (running) wake();
    },
    async stop() {
      if (!running) return;
      running = false;
      setTimer(null);
      if (inFlight === 0 && results.length === 0 && !pumping) return;
      await new Promise<void>((resolve) => {
        idle = resolve;
        if (!pumping) wake();
      });
      idle = null;
    },
  };
}
