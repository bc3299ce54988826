/**
 * The live log of one running derivation: the last `capacity` lines with absolute 0-based
 * numbers (rio's RING_CAPACITY is 100,000), read by GetBuildLogs while the derivation runs.
 */
export interface LogRing {
  push(line: Buffer): number;
  /** Lines numbered >= since, with the number of the first one; empty when none. */
  since(since: number): { first: number; lines: Buffer[] };
  readonly nextLine: number;
}

export function createLogRing(capacity = 100_000): LogRing {
  const lines: Buffer[] = [];
  let first = 0; // absolute number of lines[0]
  return {
    get nextLine() {
      return first + lines.length;
    },
    push(line) {
      lines.push(line);
      if (lines.length > capacity) {
        // Drop in blocks so a chatty builder does not shift the array per line.
        const drop = Math.max(1, Math.floor(capacity / 10));
        lines.splice(0, drop);
        first += drop;
      }
      return first + lines.length - 1;
    },
    since(since) {
      const start = Math.max(since, first);
      return { first: start, lines: lines.slice(start - first) };
    },
  };
}
