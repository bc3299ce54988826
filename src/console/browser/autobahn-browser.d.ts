/** The part of autobahn-browser (autobahn-js 22 built for browsers) that the console uses. */
declare module "autobahn-browser" {
  export interface CallOptions {
    receive_progress?: boolean;
    timeout?: number;
  }
  export interface CallResult {
    args: unknown[];
    kwargs: Record<string, unknown>;
  }
  /** A pending call: a promise with progress callbacks, cancellable. */
  export interface PendingCall extends PromiseLike<unknown> {
    then<R1 = unknown, R2 = never>(
      onResolved?: ((value: unknown) => R1 | PromiseLike<R1>) | null,
      onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
      onProgress?: (update: unknown) => void,
    ): PromiseLike<R1 | R2>;
    cancel(options?: { mode: "skip" | "kill" | "killnowait" }): void;
  }
  export interface Subscription {
    readonly topic: string;
    readonly active: boolean;
  }
  export interface Session {
    readonly id: number;
    readonly isOpen: boolean;
    call(procedure: string, args?: unknown[], kwargs?: Record<string, unknown>, options?: CallOptions): PendingCall;
    subscribe(topic: string, handler: (args: unknown[] | undefined, kwargs: unknown, details: unknown) => void, options?: { match?: string }): PromiseLike<Subscription>;
    unsubscribe(subscription: Subscription): PromiseLike<unknown>;
  }
  export interface ConnectionOptions {
    url: string;
    realm: string;
    authmethods?: string[];
    authid?: string;
    onchallenge?: (session: Session, method: string, extra: Record<string, unknown>) => string;
    max_retries?: number;
    initial_retry_delay?: number;
    max_retry_delay?: number;
    retry_delay_growth?: number;
    retry_if_unreachable?: boolean;
    use_es6_promises?: boolean;
    on_user_error?: (error: unknown) => void;
    on_internal_error?: (error: unknown) => void;
  }
  export class Connection {
    constructor(options: ConnectionOptions);
    readonly isOpen: boolean;
    onopen: (session: Session, details: Record<string, unknown>) => void;
    onclose: (reason: string, details: Record<string, unknown>) => boolean;
    open(): void;
    close(reason?: string, message?: string): void;
  }
  export const auth_cra: {
    derive_key(secret: string, salt: string, iterations?: number, keylen?: number): string;
    sign(key: string, challenge: string): string;
  };
  export const log: { debug: (...a: unknown[]) => void; warn: (...a: unknown[]) => void };
  const autobahn: { Connection: typeof Connection; auth_cra: typeof auth_cra; log: typeof log };
  export default autobahn;
}
