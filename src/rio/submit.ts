/**
 * SubmitBuild: wait (bounded) for the x-rio-build-id header, retrying only the failures that
 * prove nothing was created; once the header is in, the build exists and is never resubmitted
 * (docs/rio-build.md, client rules 2 and 3).
 */
import type { Logger } from "pino";
import type { BuildEvent } from "../../generated/build_types_pb.js";
import { AppError } from "../errors.js";
import { backoffDelay, sleep, type BackoffPolicy } from "./backoff.js";
import { toAppError } from "./grpc-errors.js";
import type { FollowOptions } from "./follow.js";
import { stopReading, type OpenStream } from "./stream-call.js";
import type { FollowOutcome } from "./types.js";

export const buildIdHeader = "x-rio-build-id";

export interface SubmitRetryInfo {
  readonly attempt: number;
  readonly delayMs: number;
  readonly code: string;
}

/** A build rio has accepted (it is durable once the header arrived). */
export interface SubmittedBuild {
  readonly buildId: string;
  /**
   * Delivers the build's events from the submit stream, re-attaching with WatchBuild when it
   * breaks. The first call drains the submit stream; later calls re-attach from `since`.
   */
  follow(options: FollowOptions): Promise<FollowOutcome>;
  /** Drops the submit stream without following (the build keeps running; rio may orphan-cancel it after 300 s). */
  close(): void;
}

export interface SubmitDeps {
  readonly open: (signal: AbortSignal | undefined) => Promise<OpenStream<BuildEvent>>;
  readonly follow: (buildId: string, initial: OpenStream<BuildEvent> | undefined, options: FollowOptions) => Promise<FollowOutcome>;
  readonly policy: BackoffPolicy;
  readonly logger: Logger;
  readonly onRetry?: (info: SubmitRetryInfo) => void;
}

export interface SubmitOptions {
  readonly signal?: AbortSignal;
}

export async function submitBuild(deps: SubmitDeps, opts: SubmitOptions = {}): Promise<SubmittedBuild> {
  const { policy, logger } = deps;
  let failures = 0;
  let stream: OpenStream<BuildEvent>;
  while (true) {
    try {
      stream = await openWithBuildId(deps, opts.signal);
      break;
    } catch (err) {
      const e = toAppError(err);
      // Only these codes mean "nothing was created"; a header timeout may have raced a merge.
      const retryable = e.code === "unavailable" || e.code === "resource_exhausted";
      failures += 1;
      if (!retryable || opts.signal?.aborted || failures > policy.maxAttempts) throw e;
      const delayMs = backoffDelay(policy, failures);
      logger.warn({ attempt: failures, delayMs, code: e.code, err: e.message }, "rio refused the submission; retrying");
      deps.onRetry?.({ attempt: failures, delayMs, code: e.code });
      await sleep(delayMs, opts.signal);
      if (opts.signal?.aborted) throw new AppError("cancelled", "submission aborted", undefined, { cause: e });
    }
  }
  const buildId = stream.header(buildIdHeader) ?? "";
  logger.info({ buildId }, "rio accepted the build");
  let initial: OpenStream<BuildEvent> | undefined = stream;
  return {
    buildId,
    follow(options) {
      const first = initial;
      initial = undefined;
      return deps.follow(buildId, first, options);
    },
    close() {
      initial?.abort();
      initial = undefined;
    },
  };
}

/**
 * Opens SubmitBuild and checks for the build id. tonic answers an early refusal Trailers-Only,
 * but other gRPC servers (connect-node among them) send plain headers first and the status in
 * the trailers; either way a response without x-rio-build-id means "not created", and its status
 * is what decides whether to retry.
 */
async function openWithBuildId(deps: SubmitDeps, signal: AbortSignal | undefined): Promise<OpenStream<BuildEvent>> {
  const stream = await deps.open(signal);
  if (stream.header(buildIdHeader)) return stream;
  try {
    await stream.consume(() => stopReading);
  } catch (err) {
    throw toAppError(err, "SubmitBuild");
  } finally {
    stream.abort();
  }
  throw new AppError("internal", `SubmitBuild answered without a ${buildIdHeader} header`);
}
