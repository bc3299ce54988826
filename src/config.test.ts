import { describe, expect, it } from "vitest";
import { parseServiceConfig } from "./config.js";
import { AppError } from "./errors.js";

describe("parseServiceConfig", () => {
  it("defaults to the embedded single-machine setup", () => {
    const c = parseServiceConfig([], {});
    expect(c.listen).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(c.realm).toBe("fediversity");
    expect(c.rioUrl).toBeNull();
    expect(c.routerUrl).toBeNull();
    expect(c.databasePath.endsWith("data/fediversity.sqlite")).toBe(true);
    expect(Object.isFrozen(c.listen)).toBe(true);
  });

  it("prefers flags over environment variables", () => {
    const c = parseServiceConfig(["--listen", "0.0.0.0:9090"], { FEDIVERSITY_LISTEN: "127.0.0.1:1", FEDIVERSITY_DATA_DIR: "/tmp/fd" });
    expect(c.listen).toEqual({ host: "0.0.0.0", port: 9090 });
    expect(c.dataDir).toBe("/tmp/fd");
  });

  it("reports every problem at once, naming the flag and variable", () => {
    let caught: unknown;
    try {
      parseServiceConfig(["--listen", "nope", "--concurrency", "0"], { RIO_SCHEDULER_URL: "ftp://x" });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    const e = caught as AppError;
    expect(e.code).toBe("invalid_argument");
    expect(e.details?.map((d) => d.path).sort()).toEqual([
      "--concurrency / FEDIVERSITY_CONCURRENCY",
      "--listen / FEDIVERSITY_LISTEN",
      "--rio-url / RIO_SCHEDULER_URL",
    ]);
  });

  it("webhooks default to the contract's schedule, refuse private targets, and keep the key beside the data", () => {
    const c = parseServiceConfig(["--data-dir", "/srv/fd"], {});
    expect(c.webhooks).toEqual({
      allowPrivate: false,
      keyFile: "/srv/fd/webhook-secrets.key",
      timeoutMs: 10_000,
      retry: { firstDelayMs: 10_000, maxDelayMs: 3_600_000, giveUpAfterMs: 86_400_000, jitter: 0.1 },
      concurrency: 64,
    });
    const t = parseServiceConfig(["--webhook-allow-private", "--webhook-key-file", "/etc/fd/key"], {
      FEDIVERSITY_WEBHOOK_TIMEOUT_MS: "500",
      FEDIVERSITY_WEBHOOK_RETRY_FIRST_MS: "100",
      FEDIVERSITY_WEBHOOK_RETRY_MAX_MS: "400",
      FEDIVERSITY_WEBHOOK_RETRY_FOR_MS: "3000",
    });
    expect(t.webhooks).toMatchObject({ allowPrivate: true, keyFile: "/etc/fd/key", timeoutMs: 500, retry: { firstDelayMs: 100, maxDelayMs: 400, giveUpAfterMs: 3000 } });
    let caught: unknown;
    try {
      parseServiceConfig([], { FEDIVERSITY_WEBHOOK_TIMEOUT_MS: "soon", FEDIVERSITY_WEBHOOK_RETRY_FIRST_MS: "5000", FEDIVERSITY_WEBHOOK_RETRY_MAX_MS: "10" });
    } catch (err) {
      caught = err;
    }
    expect((caught as AppError).details?.map((d) => d.path).sort()).toEqual(["FEDIVERSITY_WEBHOOK_RETRY_MAX_MS", "FEDIVERSITY_WEBHOOK_TIMEOUT_MS"]);
  });

  it("rejects unknown flags", () => {
    expect(() => parseServiceConfig(["--bogus"], {})).toThrow(/bad command line/);
  });
});
