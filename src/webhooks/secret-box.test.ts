import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { createSecretBox, newWebhookSecret } from "./secret-box.js";

describe("secret box", () => {
  const key = randomBytes(32);
  const box = createSecretBox(key);

  it("makes distinct secrets with a scanner-friendly prefix", () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newWebhookSecret()).not.toBe(a);
  });

  it("opens what it sealed, and the sealed form does not contain the secret", () => {
    const secret = newWebhookSecret();
    const sealed = box.seal("wh1", secret);
    expect(sealed.startsWith("v1.")).toBe(true);
    expect(sealed).not.toContain(secret.slice(6));
    expect(box.seal("wh1", secret)).not.toBe(sealed); // a fresh nonce each time
    expect(box.open("wh1", sealed)).toBe(secret);
  });

  it("refuses another webhook's sealed secret, another key, and tampering, without naming the secret", () => {
    const secret = newWebhookSecret();
    const sealed = box.seal("wh1", secret);
    const other = createSecretBox(randomBytes(32));
    const raw = Buffer.from(sealed.slice(3), "base64url");
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) ^ 1;
    const tampered = `v1.${raw.toString("base64url")}`;
    for (const attempt of [() => box.open("wh2", sealed), () => other.open("wh1", sealed), () => box.open("wh1", tampered), () => box.open("wh1", "v2.xyz"), () => box.open("wh1", "")]) {
      let caught: unknown;
      try {
        attempt();
      } catch (err) {
        caught = err;
      }
      expect(AppError.is(caught, "internal")).toBe(true);
      expect((caught as Error).message).not.toContain(secret);
    }
  });

  it("needs a 32-byte key", () => {
    expect(() => createSecretBox(randomBytes(16))).toThrow(AppError);
  });
});
