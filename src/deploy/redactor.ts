/**
 * Replaces secret values in text before it reaches log lines, events, logs or error messages.
 */
export const REDACTED = "[REDACTED]";

export interface Redactor {
  redact(text: string): string;
  /** The same redactor extended with more values. */
  with(values: Iterable<string>): Redactor;
}

export function createRedactor(secretValues: Iterable<string> = []): Redactor {
  const values = new Set<string>();
  for (const value of secretValues) {
    if (value.length === 0) continue;
    values.add(value);
    // Output is redacted line by line, so each line of a multi-line secret must match on its own.
    if (/[\r\n]/.test(value)) {
      for (const line of value.split(/\r?\n|\r/)) if (line.trim().length > 0) values.add(line);
    }
  }
  // Longest first, so a secret containing another is replaced whole.
  const ordered = [...values].sort((a, b) => b.length - a.length);
  const pattern = ordered.length === 0 ? null : new RegExp(ordered.map(escapeRegExp).join("|"), "g");
  return {
    redact(text: string): string {
      return pattern === null ? text : text.replace(pattern, REDACTED);
    },
    with(more: Iterable<string>): Redactor {
      return createRedactor([...values, ...more]);
    },
  };
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
