/** Why a sync failed, as shown in the sync view's `error` and in `sync.finished`. */
export const syncErrorCodes = [
  "eval_failed",
  "build_failed",
  "deploy_failed",
  "teardown_failed",
  "timeout",
  "scheduler_lost",
  "internal",
] as const;
export type SyncErrorCode = (typeof syncErrorCodes)[number];

export interface SyncError {
  readonly code: SyncErrorCode;
  readonly message: string;
  /** The failing derivation (`/nix/store/….drv`) when one is known. */
  readonly derivation: string | null;
}

export function isSyncErrorCode(value: string): value is SyncErrorCode {
  return (syncErrorCodes as readonly string[]).includes(value);
}
