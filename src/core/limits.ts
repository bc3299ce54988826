/**
 * Service limits (docs/api.md "Limits") and the input rules that enforce them: the one place where
 * the numbers live. Defaults here; the configuration (config.ts) starts from them and the store and
 * the API both read that one object. The rules return a violation as data (core throws nothing):
 * the API's schemas and the store turn it into the same AppError.
 */
export interface Limits {
  /** Non-terminal (queued or in flight) syncs per deployment; one more is `resource_exhausted`. */
  readonly maxNonTerminalSyncs: number;
  /** Configuration size as JSON, in bytes (UTF-8). */
  readonly maxConfigurationBytes: number;
  /** Nesting levels of objects and arrays in a configuration (the configuration object is level 1). */
  readonly maxConfigurationDepth: number;
  /** `request_id` length in characters. */
  readonly maxRequestIdLength: number;
  /** Log lines kept per sync at least (older lines are trimmed beyond this). */
  readonly logLinesKeptPerSync: number;
  /** Webhooks per tenant; one more is `resource_exhausted`. */
  readonly maxWebhooksPerTenant: number;
}

export const defaultLimits: Limits = Object.freeze({
  maxNonTerminalSyncs: 100,
  maxConfigurationBytes: 256 * 1024,
  maxConfigurationDepth: 32,
  maxRequestIdLength: 128,
  logLinesKeptPerSync: 100_000,
  maxWebhooksPerTenant: 20,
});

/** A broken input rule: the error's code and message, and the detail naming the argument. */
export interface RuleViolation {
  readonly code: "invalid_argument" | "resource_exhausted";
  readonly message: string;
  readonly detail: { readonly path: string; readonly message: string };
}

const violation = (code: RuleViolation["code"], path: string, message: string, summary = `${path}: ${message}`): RuleViolation => ({
  code,
  message: summary,
  detail: { path, message },
});

/** `request_id`: 1 to `maxRequestIdLength` characters. */
export function requestIdViolation(requestId: string, limits: Pick<Limits, "maxRequestIdLength"> = defaultLimits): RuleViolation | null {
  if (requestId.length === 0) return violation("invalid_argument", "request_id", "must not be empty");
  if (requestId.length > limits.maxRequestIdLength) {
    return violation("invalid_argument", "request_id", `must be at most ${limits.maxRequestIdLength} characters`);
  }
  return null;
}

/** `configuration`: at most `maxConfigurationBytes` as JSON (UTF-8), else resource_exhausted. */
export function configurationSizeViolation(bytes: number, limits: Pick<Limits, "maxConfigurationBytes"> = defaultLimits): RuleViolation | null {
  if (bytes <= limits.maxConfigurationBytes) return null;
  return violation(
    "resource_exhausted",
    "configuration",
    `must be at most ${limits.maxConfigurationBytes} bytes as JSON`,
    `configuration is ${bytes} bytes as JSON; the limit is ${limits.maxConfigurationBytes}`,
  );
}

/** A new deployment cannot be created without a deployment type. */
export const deploymentTypeRequired: RuleViolation = violation(
  "invalid_argument",
  "deployment_type",
  "required for a new deployment",
  "deployment_type is required for a new deployment",
);
