import { describe, expect, it } from "vitest";
import { deliveryHeaders, signBody, verifySignature } from "./signature.js";

describe("delivery signatures", () => {
  it("is HMAC-SHA256 in hex with the sha256= prefix (RFC 4231 test case 2)", () => {
    expect(signBody("Jefe", "what do ya want for nothing?")).toBe("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("verifies the exact body only", () => {
    const body = '{"seq":1,"type":"sync.finished"}';
    const header = signBody("whsec_x", body);
    expect(verifySignature("whsec_x", body, header)).toBe(true);
    expect(verifySignature("whsec_x", Buffer.from(body), header)).toBe(true);
    expect(verifySignature("whsec_x", `${body} `, header)).toBe(false);
    expect(verifySignature("whsec_y", body, header)).toBe(false);
    expect(verifySignature("whsec_x", body, header.replace("sha256=", "sha1="))).toBe(false);
    expect(verifySignature("whsec_x", body, header.slice(0, -1))).toBe(false);
    expect(verifySignature("whsec_x", body, undefined)).toBe(false);
  });

  it("builds the contract's headers, with the same values for the same delivery", () => {
    const input = { eventType: "sync.finished", deliveryId: "01J0000000000000000000000A", secret: "s", body: "{}" };
    const h = deliveryHeaders(input);
    expect(h).toEqual({
      "content-type": "application/json",
      "x-fediversity-event": "sync.finished",
      "x-fediversity-delivery": "01J0000000000000000000000A",
      "x-fediversity-signature": signBody("s", "{}"),
    });
    expect(deliveryHeaders(input)).toEqual(h);
  });
});
