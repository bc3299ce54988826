/**
 * ListBuilds' opaque keyset cursor in rio's v1 layout (admin/builds.rs): base64url without padding
 * of a version byte 0x01, submitted_at in microseconds (i64 big-endian) and the 16 bytes of the
 * build id. Decoding fails the way rio's does: bad base64, then version, then length.
 */
import { AppError } from "../errors.js";

const version = 0x01;
const length = 1 + 8 + 16;
const base64url = /^[A-Za-z0-9_-]*$/;

export function encodeCursor(submittedAtMs: number, buildId: string): string {
  const buf = Buffer.alloc(length);
  buf[0] = version;
  buf.writeBigInt64BE(BigInt(submittedAtMs) * 1000n, 1);
  Buffer.from(buildId.replace(/-/g, ""), "hex").copy(buf, 9);
  return buf.toString("base64url");
}

export function decodeCursor(cursor: string): { at: number; id: string } {
  // Node's decoder skips what it does not understand; rio's rejects it.
  if (!base64url.test(cursor) || cursor.length % 4 === 1) throw new AppError("invalid_argument", "bad cursor: invalid base64");
  const buf = Buffer.from(cursor, "base64url");
  if (buf.length === 0 || buf[0] !== version) throw new AppError("invalid_argument", "bad cursor version");
  if (buf.length !== length) throw new AppError("invalid_argument", "bad cursor length");
  const micros = buf.readBigInt64BE(1);
  const hex = buf.subarray(9).toString("hex");
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { at: Number(micros / 1000n), id };
}
