/** Where the CLI writes and what it reads from its environment (injectable for tests). */
export interface CliOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** Terminal width, when a TTY. */
  readonly columns?: number;
}

export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a file, or standard input for "-". */
  readFile(path: string): Promise<string>;
}
