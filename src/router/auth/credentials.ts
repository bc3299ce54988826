import { createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import nacl from "tweetnacl";

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** autobahn's `derive_key`: base64(PBKDF2-HMAC-SHA256(secret, salt, iterations=1000, keylen=32)). */
export function deriveCraKey(secret: string, salt: string, iterations = 1000, keylen = 32): string {
  return pbkdf2Sync(secret, salt, iterations, keylen, "sha256").toString("base64");
}

/** WAMP-CRA signature: base64(HMAC-SHA256(key as UTF-8, challenge)). */
export function craSignature(key: string, challenge: string): string {
  return createHmac("sha256", Buffer.from(key, "utf8")).update(challenge, "utf8").digest("base64");
}

export function craChallenge(fields: { authid: string; authrole: string; authprovider: string; session: number }): string {
  return JSON.stringify({
    authid: fields.authid,
    authrole: fields.authrole,
    authmethod: "wampcra",
    authprovider: fields.authprovider,
    nonce: randomBytes(16).toString("base64"),
    timestamp: new Date().toISOString(),
    session: fields.session,
  });
}

export function cryptosignChallenge(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Verifies a cryptosign answer: hex of the 64-byte Ed25519 signature over the 32-byte challenge,
 * optionally followed by the challenge itself (autobahn sends signature ‖ challenge).
 */
export function verifyCryptosign(signatureHex: string, challengeHex: string, pubkeyHex: string): boolean {
  if (!/^[0-9a-fA-F]*$/.test(signatureHex) || !/^[0-9a-fA-F]{64}$/.test(pubkeyHex)) return false;
  const signed = Buffer.from(signatureHex, "hex");
  const challenge = Buffer.from(challengeHex, "hex");
  if (signed.length !== 64 && signed.length !== 96) return false;
  if (signed.length === 96 && !signed.subarray(64).equals(challenge)) return false;
  return nacl.sign.detached.verify(
    new Uint8Array(challenge),
    new Uint8Array(signed.subarray(0, 64)),
    new Uint8Array(Buffer.from(pubkeyHex, "hex")),
  );
}
