/** Service limits (docs/api.md "Limits"); defaults here, overridable by configuration. */
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
}

export const defaultLimits: Limits = Object.freeze({
  maxNonTerminalSyncs: 100,
  maxConfigurationBytes: 256 * 1024,
  maxConfigurationDepth: 32,
  maxRequestIdLength: 128,
  logLinesKeptPerSync: 100_000,
});
