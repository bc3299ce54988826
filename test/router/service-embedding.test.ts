// How the service embeds the router (src/main.ts): a payload the router refuses fails as the API
// contract says, on every serializer. (Progressive results through the API's in-process session
// are exercised by test/e2e/lifecycle.test.ts and follow-cancel.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "../../src/main.js";
import { connectWamp, makeE2eDir, type E2eDir } from "../helpers/e2e-service.js";
import { serializerNames } from "./helpers.js";

let dir: E2eDir;
let service: RunningService;
beforeAll(async () => {
  dir = await makeE2eDir();
  const { startInProcess } = await import("../helpers/e2e-service.js");
  service = await startInProcess(dir);
}, 60_000);
afterAll(async () => {
  await service?.stop();
  await dir?.remove();
});

describe.each(serializerNames)("the embedded router over %s", (serializer) => {
  it("fails a call nested deeper than the router's limit with fediversity.error.invalid_argument, kwargs {code, message, details}", async () => {
    const w = await connectWamp(service.url, dir.principals.acme, { serializer });
    try {
      let configuration: unknown = { domain: "example.org" };
      for (let i = 0; i < 80; i++) configuration = { nested: configuration };
      const failure = await w.fail("fediversity.deployment.plan", { deployment: "app", deployment_type: "e2e", configuration });
      const message = "CALL kwargs refused: nested deeper than 64 levels (the router's limit)";
      expect(failure).toEqual({
        error: "fediversity.error.invalid_argument",
        args: [message],
        kwargs: { code: "invalid_argument", message, details: [{ path: "kwargs", message: "nested deeper than 64 levels (the router's limit)" }] },
      });
      // The session goes on.
      expect(await w.call("fediversity.deployment.list", {})).toMatchObject({ deployments: [] });
    } finally {
      await w.close();
    }
  });
});
