/**
 * Input schemas of every procedure, applied at the edge. Keyword arguments only; unknown keywords
 * are rejected; each problem is reported with its dotted path.
 */
import { z } from "zod";
import { AppError, type ProblemDetail } from "../errors.js";
import {
  configurationDepthViolation,
  configurationSizeViolation,
  defaultLimits,
  deploymentStates,
  eventTypes,
  priorityClasses,
  requestIdViolation,
  submitModes,
  syncKinds,
  syncStates,
} from "../core/index.js";

export const tenantPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const deploymentPattern = /^[a-z0-9][a-z0-9_]{0,62}$/;
/** ULID or UUID(v7), case-insensitively; lenient enough for either. */
export const syncIdPattern = /^[0-9A-Za-z][0-9A-Za-z-]{0,63}$/;
export const deploymentTypePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const derivationPattern = /^\/[^\s\0]{1,1023}\.drv$/;

const tenant = z.string().regex(tenantPattern, { error: "must match ^[a-z0-9][a-z0-9_-]{0,62}$" });
const deployment = z.string().regex(deploymentPattern, { error: "must match ^[a-z0-9][a-z0-9_]{0,62}$" });
const syncId = z.string().regex(syncIdPattern, { error: "must be a sync id (ULID or UUID)" });
const deploymentType = z.string().regex(deploymentTypePattern, { error: "must be a deployment type name" });
const derivation = z.string().regex(derivationPattern, { error: "must be a .drv store path" });
/**
 * A plain JSON object, passed on as received: z.record would rebuild it and silently skip an own
 * `__proto__` key, so such a key would vanish instead of meeting the deployment type's schema.
 */
const configuration = z.custom<Record<string, unknown>>(isPlainObject, { error: "must be an object" });
const mode = z.enum(submitModes as unknown as [string, ...string[]], { error: "must be one of: replace, enqueue" });
const priority = z.enum(priorityClasses as [string, ...string[]], {
  error: "must be one of: interactive, scheduled, ci",
});
// The request_id rule is core's (limits.ts), the same one the store applies.
const requestId = z.string().superRefine((value, ctx) => {
  const broken = requestIdViolation(value, defaultLimits);
  if (broken) ctx.addIssue({ code: "custom", message: broken.detail.message });
});
const shortText = z.string().max(1024, { error: "must be at most 1024 characters" });
const seq = z.int({ error: "must be a non-negative integer" }).min(0, { error: "must be a non-negative integer" });
const limit = (max: number) =>
  z.int({ error: `must be an integer from 1 to ${max}` }).min(1, { error: `must be an integer from 1 to ${max}` }).max(max, {
    error: `must be an integer from 1 to ${max}`,
  });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export const submitKwargs = z.strictObject({
  deployment,
  configuration,
  deployment_type: deploymentType.optional(),
  mode: mode.optional(),
  priority: priority.optional(),
  request_id: requestId.optional(),
  tenant: tenant.optional(),
});

export const planKwargs = z.strictObject({
  deployment,
  configuration,
  deployment_type: deploymentType.optional(),
  priority: priority.optional(),
  tenant: tenant.optional(),
});

export const getKwargs = z.strictObject({ deployment, tenant: tenant.optional() });

export const listKwargs = z.strictObject({
  state: z.enum(deploymentStates, { error: "must be one of: idle, active, deploying, destroying" }).optional(),
  limit: limit(500).optional(),
  cursor: shortText.optional(),
  tenant: tenant.optional(),
});

export const cancelKwargs = z.strictObject({
  deployment,
  sync: syncId.optional(),
  reason: shortText.optional(),
  tenant: tenant.optional(),
});

export const deleteKwargs = z.strictObject({
  deployment,
  mode: mode.optional(),
  request_id: requestId.optional(),
  tenant: tenant.optional(),
});

export const rollbackKwargs = z.strictObject({
  deployment,
  generation: z.int({ error: "must be a positive integer" }).min(1, { error: "must be a positive integer" }).optional(),
  tenant: tenant.optional(),
});

export const eventsKwargs = z.strictObject({
  deployment,
  since: seq.optional(),
  limit: limit(1000).optional(),
  tenant: tenant.optional(),
});

export const logsKwargs = z.strictObject({
  deployment,
  sync: syncId,
  since_line: seq.optional(),
  limit: limit(10_000).optional(),
  derivation: derivation.optional(),
  follow: z.boolean({ error: "must be a boolean" }).optional(),
  tenant: tenant.optional(),
});

export const graphKwargs = z.strictObject({ deployment, sync: syncId, tenant: tenant.optional() });

export const schemaKwargs = z.strictObject({ deployment_type: deploymentType.optional() });

export const queueStatusKwargs = z.strictObject({});

export const syncGetKwargs = z.strictObject({ sync: syncId, tenant: tenant.optional() });

export const historyKwargs = z.strictObject({
  deployment,
  state: z.enum(syncStates, { error: `must be one of: ${syncStates.join(", ")}` }).optional(),
  kind: z.enum(syncKinds as [string, ...string[]], { error: "must be one of: apply, teardown" }).optional(),
  limit: limit(500).optional(),
  cursor: shortText.optional(),
  tenant: tenant.optional(),
});

const webhookId = z.string().regex(syncIdPattern, { error: "must be a webhook id" });
// The URL's own rules (scheme, credentials, addresses) are the address policy's, applied by the service.
const webhookUrl = z.string().min(1, { error: "must not be empty" }).max(2048, { error: "must be at most 2048 characters" });
const webhookEvents = z
  .array(z.enum(eventTypes as [string, ...string[]], { error: `must be one of: ${eventTypes.join(", ")}` }))
  .min(1, { error: "must name at least one event type" })
  .max(eventTypes.length, { error: `must name at most ${eventTypes.length} event types` })
  .refine((types) => new Set(types).size === types.length, { error: "must not name an event type twice" });

export const webhookCreateKwargs = z.strictObject({
  url: webhookUrl,
  events: webhookEvents.optional(),
  deployment: deployment.optional(),
  description: shortText.optional(),
  tenant: tenant.optional(),
});

export const webhookListKwargs = z.strictObject({ tenant: tenant.optional() });

export const webhookDeleteKwargs = z.strictObject({ webhook: webhookId, tenant: tenant.optional() });

export const webhookDeliveriesKwargs = z.strictObject({
  webhook: webhookId,
  limit: limit(500).optional(),
  cursor: shortText.optional(),
  tenant: tenant.optional(),
});

/** Turns zod issues into `{ path, message }` details; an unknown keyword gets its own path. */
export function problemsFromZod(error: z.ZodError): ProblemDetail[] {
  const problems: ProblemDetail[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        problems.push({ path: base ? `${base}.${key}` : key, message: "unknown keyword argument" });
      }
    } else {
      problems.push({ path: base, message: issue.message });
    }
  }
  return problems;
}

/**
 * Validates one call's arguments: no positional arguments, kwargs must match `schema`.
 * Throws AppError("invalid_argument") with one detail per problem.
 */
export function parseKwargs<S extends z.ZodType>(schema: S, args: unknown, kwargs: unknown): z.output<S> {
  const problems: ProblemDetail[] = [];
  if (Array.isArray(args) && args.length > 0) {
    problems.push({ path: "", message: "positional arguments are not accepted; pass keyword arguments" });
  }
  const input = kwargs === undefined || kwargs === null ? {} : kwargs;
  const result = schema.safeParse(input);
  if (!result.success) problems.push(...problemsFromZod(result.error));
  if (problems.length > 0 || !result.success) {
    throw new AppError("invalid_argument", describeProblems(problems), problems);
  }
  return result.data;
}

function describeProblems(problems: readonly ProblemDetail[]): string {
  const first = problems[0];
  if (!first) return "invalid arguments";
  const head = first.path ? `${first.path}: ${first.message}` : first.message;
  return problems.length === 1 ? head : `${head} (and ${problems.length - 1} more)`;
}

/**
 * Size of a configuration as JSON in UTF-8 bytes, checked by core's rule (resource_exhausted over
 * the limit). Its nesting is checked first, without recursion (invalid_argument naming the limit),
 * because measuring the size recurses, as does everything after it.
 */
export function checkConfigurationSize(value: unknown, maxBytes: number): void {
  const tooDeep = configurationDepthViolation(value, defaultLimits);
  if (tooDeep) throw AppError.fromViolation(tooDeep);
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(value), "utf8");
  } catch {
    throw new AppError("invalid_argument", "configuration: must be JSON-serialisable", [
      { path: "configuration", message: "must be JSON-serialisable" },
    ]);
  }
  const tooBig = configurationSizeViolation(size, { maxConfigurationBytes: maxBytes });
  if (tooBig) throw AppError.fromViolation(tooBig);
}
