/**
 * The operator's key that seals webhook secrets at rest: 32 random bytes as 64 hex digits in a file
 * of its own (default `<data-dir>/webhook-secrets.key`), made with mode 600 on first start. Like
 * ssh with its keys, a key file that others may read is refused. Losing the file makes every
 * stored secret unusable (deliveries then fail until the webhooks are created again).
 */
import { closeSync, constants, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { AppError } from "../errors.js";
import { secretKeyBytes } from "./secret-box.js";

export function loadOrCreateKeyFile(path: string): Buffer {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      writeSync(fd, `${randomBytes(secretKeyBytes).toString("hex")}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new AppError("failed_precondition", `cannot create the webhook key file ${path}: ${(err as Error).message}`);
    }
  }
  const mode = statSync(path).mode;
  if ((mode & 0o077) !== 0) {
    throw new AppError("failed_precondition", `the webhook key file ${path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  }
  const text = readFileSync(path, "utf8").trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new AppError("failed_precondition", `the webhook key file ${path} must hold ${secretKeyBytes} bytes as 64 hex digits`);
  }
  return Buffer.from(text, "hex");
}
