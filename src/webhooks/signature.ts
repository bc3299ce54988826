/**
 * Signing deliveries: `X-Fediversity-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, keyed
 * with the webhook's secret as UTF-8 bytes (api.md "Additions in v1.1"). Receivers recompute it
 * over the bytes they received, before parsing them.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export const signaturePrefix = "sha256=";

export function signBody(secret: string, body: string | Uint8Array): string {
  return signaturePrefix + createHmac("sha256", secret).update(body).digest("hex");
}

/** Constant-time check of a signature header against `body`. */
export function verifySignature(secret: string, body: string | Uint8Array, header: string | undefined): boolean {
  if (header === undefined || !header.startsWith(signaturePrefix)) return false;
  const expected = Buffer.from(signBody(secret, body), "latin1");
  const given = Buffer.from(header, "latin1");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface DeliveryHeaderInput {
  readonly eventType: string;
  readonly deliveryId: string;
  readonly secret: string;
  readonly body: string;
}

/** The headers of one delivery attempt; the same on every retry of a delivery. */
export function deliveryHeaders(input: DeliveryHeaderInput): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-fediversity-event": input.eventType,
    "x-fediversity-delivery": input.deliveryId,
    "x-fediversity-signature": signBody(input.secret, input.body),
  };
}
