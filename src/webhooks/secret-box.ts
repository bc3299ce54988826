/**
 * Webhook signing secrets: made here, shown once by `webhook.create`, and kept at rest only sealed
 * with AES-256-GCM under the operator's key (see key-file.ts), bound to the webhook's id so a sealed
 * value copied onto another webhook's row does not open. The store and its backups never hold a
 * usable secret; the key file never enters the database.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AppError } from "../errors.js";

const version = "v1";
const nonceBytes = 12;
const tagBytes = 16;
export const secretKeyBytes = 32;

/** A fresh signing secret: `whsec_` and 32 random bytes in base64url (the prefix helps secret scanners). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

export interface SecretBox {
  /** Seals `secret` for webhook `webhookId`: `v1.<base64url(nonce | tag | ciphertext)>`. */
  seal(webhookId: string, secret: string): string;
  /** Opens what `seal` made for the same webhook id; throws `internal` otherwise. */
  open(webhookId: string, sealed: string): string;
}

export function createSecretBox(key: Uint8Array): SecretBox {
  if (key.length !== secretKeyBytes) throw new AppError("internal", `the webhook key must be ${secretKeyBytes} bytes`);
  const k = Buffer.from(key);
  const aad = (webhookId: string) => Buffer.from(`fediversity-webhook:${webhookId}`, "utf8");
  return {
    seal(webhookId, secret) {
      const nonce = randomBytes(nonceBytes);
      const cipher = createCipheriv("aes-256-gcm", k, nonce);
      cipher.setAAD(aad(webhookId));
      const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
      return `${version}.${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString("base64url")}`;
    },
    open(webhookId, sealed) {
      const [v, payload] = sealed.split(".", 2);
      const raw = v === version && payload !== undefined ? Buffer.from(payload, "base64url") : Buffer.alloc(0);
      if (raw.length < nonceBytes + tagBytes) throw new AppError("internal", `the signing secret of webhook ${webhookId} is not in a known sealed form`);
      try {
        const decipher = createDecipheriv("aes-256-gcm", k, raw.subarray(0, nonceBytes));
        decipher.setAAD(aad(webhookId));
        decipher.setAuthTag(raw.subarray(nonceBytes, nonceBytes + tagBytes));
        return Buffer.concat([decipher.update(raw.subarray(nonceBytes + tagBytes)), decipher.final()]).toString("utf8");
      } catch {
        // No detail from the cipher: it could only say that the tag did not match.
        throw new AppError("internal", `the signing secret of webhook ${webhookId} does not open with this key (was the key file replaced?)`);
      }
    },
  };
}
