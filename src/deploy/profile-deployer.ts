/**
 * apply / teardown / rollback over a Nix profile on a host; the local and ssh deployers are this
 * with a different Host and a different way of getting the outputs there.
 *
 * Activation order: outputs are activated in the order given (the build's top-level outputs in
 * the runner's order) and deactivated in reverse. Activation has "switch" semantics: a new
 * generation's bin/activate replaces what the previous one set up; old outputs are not
 * deactivated on apply, only on teardown.
 */
import type { Logger } from "pino";
import { AppError } from "../errors.js";
import { createDeadline } from "./deadline.js";
import type { Host, HostSession } from "./host.js";
import { createNixProfile, type NixProfile, type ProfileState } from "./nix-profile.js";
import { createRedactor, type Redactor } from "./redactor.js";
import { describeFailure, expectSuccess, type RunResult } from "./run-process.js";
import { loadSecrets } from "./secrets.js";
import type { DeployContext, Deployer, DeployResult, GenerationOutputs } from "./types.js";
import { checkIds, checkStorePaths } from "./validate.js";

export interface ProfileDeployerOptions {
  readonly kind: "local" | "ssh";
  readonly host: Host;
  /** The state directory on the host: profiles/<tenant>/<deployment>, targets/<tenant>/<deployment>. */
  readonly stateDir: string;
  readonly rollbackOnFailure: boolean;
  /** Makes outputs valid on the host before they are activated (fetch, copy). */
  readonly prepare: (outputs: readonly string[], op: Operation) => Promise<void>;
  readonly logger?: Logger;
}

/** What one step of an operation needs: its deadline, redactor and line sink. */
export interface Operation {
  readonly signal: AbortSignal;
  readonly redactor: Redactor;
  readonly onLine: (text: string) => void;
  /** The host connection this step runs on. */
  readonly session: HostSession;
}

export function profileDir(stateDir: string, tenant: string, deployment: string): string {
  return `${stateDir}/profiles/${tenant}/${deployment}`;
}

export function targetDir(stateDir: string, tenant: string, deployment: string): string {
  return `${stateDir}/targets/${tenant}/${deployment}`;
}

export function createProfileDeployer(opts: ProfileDeployerOptions): Deployer {
  const { host } = opts;

  async function begin(ctx: DeployContext, what: string) {
    checkIds(ctx);
    const secretEnv = await loadSecrets(ctx.secrets);
    const redactor = createRedactor(Object.values(secretEnv));
    const target = targetDir(opts.stateDir, ctx.tenant, ctx.deployment);
    const log = opts.logger?.child({ tenant: ctx.tenant, deployment: ctx.deployment, sync: ctx.sync });
    const onLine = (text: string): void => ctx.onLine("deploy", text);
    /** A deadline of its own for each step that gets a fresh budget (the operation, a recovery). */
    const withOp = async <T>(session: HostSession | null, fn: (op: Operation, profile: NixProfile) => Promise<T>): Promise<T> => {
      const deadline = createDeadline(ctx.signal, ctx.timeoutMs, what);
      let opened: HostSession | null = null;
      try {
        const active = session ?? (opened = await host.open({ signal: deadline.signal, redactor }));
        const op: Operation = { signal: deadline.signal, redactor, onLine, session: active };
        return await fn(op, createNixProfile(active, profileDir(opts.stateDir, ctx.tenant, ctx.deployment)));
      } finally {
        await opened?.close();
        deadline.dispose();
      }
    };
    return { secretEnv, redactor, target, log, withOp };
  }

  type Session = Awaited<ReturnType<typeof begin>>;

  /** Runs bin/<script> of each output; returns the first failure instead of throwing. */
  async function runScripts(
    s: Session,
    ctx: DeployContext,
    outputs: readonly string[],
    script: "activate" | "deactivate",
    generation: number,
    op: Operation,
  ): Promise<{ out: string; result: RunResult } | null> {
    expectSuccess(await op.session.run(["mkdir", "-p", s.target], op), "creating the target directory");
    for (const [i, out] of outputs.entries()) {
      op.onLine(`${script === "activate" ? "activating" : "deactivating"} ${out} (${i + 1}/${outputs.length}) on ${host.name}`);
      const result = await op.session.run([`${out}/bin/${script}`], {
        ...op,
        env: {
          FEDIVERSITY_TARGET_DIR: s.target,
          FEDIVERSITY_TENANT: ctx.tenant,
          FEDIVERSITY_DEPLOYMENT: ctx.deployment,
          FEDIVERSITY_GENERATION: String(generation),
          FEDIVERSITY_SYNC: ctx.sync,
          FEDIVERSITY_OUT: out,
        },
        secretEnv: s.secretEnv,
      });
      if (result.exitCode !== 0) return { out, result };
    }
    return null;
  }

  async function makeLive(s: Session, ctx: DeployContext, gen: GenerationOutputs, op: Operation, profile: NixProfile) {
    await opts.prepare(gen.outputs, op);
    const target = await profile.targetFor(gen.outputs, op);
    const profileGeneration = await profile.switchTo(target, op);
    const failure = await runScripts(s, ctx, gen.outputs, "activate", gen.generation, op);
    return { profileGeneration, failure };
  }

  /** After a failed activation: make the previous generation live again, or drop the failed one. */
  async function recover(s: Session, ctx: DeployContext, session: HostSession, before: ProfileState, failedTarget: string | null): Promise<string> {
    try {
      return await s.withOp(session, async (op, profile) => {
        if (ctx.previous && ctx.previous.outputs.length > 0) {
          const { failure } = await makeLive(s, ctx, ctx.previous, op, profile);
          if (failure) return `rollback to generation ${ctx.previous.generation} failed too (${describeFailure(failure.result, "activation")})`;
          return `rolled back to generation ${ctx.previous.generation}`;
        }
        const beforeTarget = before.current === null ? undefined : before.generations.get(before.current);
        if (beforeTarget !== undefined && beforeTarget !== failedTarget) {
          const outputs = await profile.outputsOf(beforeTarget, op);
          const { failure } = await makeLive(s, ctx, { generation: ctx.generation - 1, outputs }, op, profile);
          if (failure) return `rollback to profile generation ${before.current} failed too`;
          return `rolled back to profile generation ${before.current}`;
        }
        if (before.current === null) {
          // The profile was created by this apply: drop it, so nothing counts as live.
          await profile.remove(op);
          return "nothing to roll back to; the failed generation was removed";
        }
        return "nothing to roll back to";
      });
    } catch (err) {
      return `rollback failed: ${s.redactor.redact(AppError.from(err).message)}`;
    }
  }

  function fail(s: Session, code: "failed_precondition" | "timeout", message: string): AppError {
    const text = s.redactor.redact(message);
    s.log?.warn({ err: text }, "deploy failed");
    return new AppError(code, text);
  }

  /** apply and rollback alike: make ctx.outputs live, falling back to ctx.previous on failure. */
  async function makeOutputsLive(ctx: DeployContext, what: "deploy" | "rollback"): Promise<DeployResult> {
    const s = await begin(ctx, what);
    if (ctx.outputs.length === 0) throw new AppError("invalid_argument", `nothing to ${what === "deploy" ? "deploy" : "roll back to"}: no outputs`);
    checkStorePaths(ctx.outputs);
    if (ctx.previous) checkStorePaths(ctx.previous.outputs, "previous.outputs");
    try {
      return await s.withOp(null, async (op, profile) => {
        let before: ProfileState | null = null;
        let newTarget: string | null = null;
        try {
          await opts.prepare(ctx.outputs, op);
          before = await profile.read(op);
          newTarget = await profile.targetFor(ctx.outputs, op);
          // Idempotent per sync: a re-run finds the profile already there and only re-activates.
          // A rollback finds its stored generation and switches to it (--switch-generation).
          const profileGeneration = await profile.switchTo(newTarget, op);
          const failure = await runScripts(s, ctx, ctx.outputs, "activate", ctx.generation, op);
          if (!failure) return { outputs: ctx.outputs, profileGeneration };
          const reason = describeFailure(failure.result, "activation");
          if (!opts.rollbackOnFailure) throw fail(s, "failed_precondition", `${reason}; rollback_on_failure is off`);
          const recovered = await recover(s, ctx, op.session, before, newTarget);
          throw fail(s, "failed_precondition", withRecovery(reason, recovered));
        } catch (err) {
          // A timeout during activation leaves a half-activated generation: recover as for a failure.
          if (AppError.is(err, "timeout") && before !== null && newTarget !== null && opts.rollbackOnFailure) {
            const recovered = await recover(s, ctx, op.session, before, newTarget);
            throw fail(s, "timeout", `${err.message}; ${recovered}`);
          }
          throw err;
        }
      });
    } catch (err) {
      throw redactError(s.redactor, err);
    }
  }

  return {
    kind: opts.kind,

    apply: (ctx) => makeOutputsLive(ctx, "deploy"),

    rollback: (ctx) => makeOutputsLive(ctx, "rollback"),

    async teardown(ctx): Promise<DeployResult> {
      const s = await begin(ctx, "teardown");
      try {
        return await s.withOp(null, async (op, profile) => {
          const state = await profile.read(op);
          const live = state.current === null ? undefined : state.generations.get(state.current);
          // Idempotent: a re-run after the profile is gone has nothing left to do.
          if (live === undefined) {
            op.onLine(`nothing live for ${ctx.tenant}/${ctx.deployment} on ${host.name}`);
            await profile.remove(op);
            return { outputs: [], profileGeneration: null };
          }
          const outputs = await profile.outputsOf(live, op);
          const failure = await runScripts(s, ctx, [...outputs].reverse(), "deactivate", ctx.generation, op);
          if (failure) throw fail(s, "failed_precondition", `${describeFailure(failure.result, "deactivation")}; the profile is kept`);
          await profile.remove(op);
          // The target directory goes too when deactivation left it empty.
          await op.session.run(["rmdir", s.target], { signal: op.signal, redactor: op.redactor });
          return { outputs: [], profileGeneration: null };
        });
      } catch (err) {
        throw redactError(s.redactor, err);
      }
    },
  };
}

function withRecovery(reason: string, recovered: string): string {
  // "activation failed (exit 3): <last line>" → "activation failed (exit 3); rolled back … (<last line>)"
  const m = /^(activation failed \(exit \d+\))(?:: (.*))?$/.exec(reason);
  if (!m) return `${reason}; ${recovered}`;
  return `${m[1]}; ${recovered}${m[2] ? ` (last output: ${m[2]})` : ""}`;
}

/** The error a deployer throws: redacted, and without a `cause` that could carry raw output. */
export function redactError(redactor: Redactor, err: unknown): AppError {
  const e = AppError.from(err);
  return new AppError(e.code, redactor.redact(e.message), e.details);
}
