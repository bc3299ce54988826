/**
 * Value generators for the API fuzzer: a valid value per keyword (the keywords come from the zod
 * schemas of src/api/schemas.ts) and hostile mutations (wrong types, limits and one past them,
 * unicode incl. lone surrogates and NUL, 2^53±1, NaN-ish strings, huge and deeply nested values).
 */
export type Rand = () => number;

export const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

export function deepNest(depth: number, kind: "array" | "object"): unknown {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = kind === "array" ? [v] : { n: v };
  return v;
}

const hostileStrings = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "\ud83d\ude00",
  "\u202e\u0041\u202c",
  "é",
  "ＡＢＣ",
  "../../etc/passwd",
  "/nix/store/x.drv",
  "$(id)",
  "`id`",
  "; rm -rf / #",
  "${builtins.abort \"x\"}",
  "%s%n%x",
  "NaN",
  "Infinity",
  "-0",
  "1e309",
  "0x10",
  "null",
  "true",
  "__proto__",
  "constructor",
  "acme",
  "beta",
  "ACME",
  "acme.x",
  "acme*",
  "a".repeat(63),
  "a".repeat(64),
  "a".repeat(128),
  "a".repeat(129),
  "a".repeat(1024),
  "a".repeat(1025),
  "01ARZ3NDEKTSV4RRFFQ69G5FAV",
  "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
  "x".repeat(65),
];

const hostileNumbers = [0, -1, 1, 2, 1.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), 1e308, 5e-324, 100, 101, 500, 501, 1000, 1001, 10_000, 10_001];

/** Only msgpack/cbor carry these; JSON turns them into null. */
export const nonFiniteNumbers = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0];

export function hostileValue(rand: Rand, binaryOk: boolean): unknown {
  const r = rand();
  if (r < 0.35) return pick(rand, hostileStrings);
  if (r < 0.55) return pick(rand, binaryOk && rand() < 0.3 ? nonFiniteNumbers : hostileNumbers);
  if (r < 0.6) return pick(rand, [true, false, null]);
  if (r < 0.7) return pick(rand, [[], [1], ["a"], [null], [{}]]);
  if (r < 0.8) return pick(rand, [{}, { a: 1 }, JSON.parse('{"__proto__": {"x": 1}}') as unknown, { constructor: "x" }, { "": "" }]);
  // autobahn-js's msgpack/cbor encoders recurse; they give up (client side) far below JSON's depth.
  if (r < 0.87) return deepNest(1 + Math.floor(rand() * (binaryOk ? 400 : 3000)), rand() < 0.5 ? "array" : "object");
  if (r < 0.93) return "é\u0000\ud800".repeat(1 + Math.floor(rand() * 20_000));
  return Array.from({ length: 1 + Math.floor(rand() * 2000) }, (_, i) => (i % 2 ? i : String(i)));
}

/** A valid value for each keyword the schemas know (and for what the fuzzed service has). */
export function validValue(rand: Rand, key: string, ctx: { tenant: string; deployments: readonly string[]; syncs: readonly string[] }): unknown {
  switch (key) {
    case "deployment":
      return pick(rand, ctx.deployments);
    case "configuration":
      return { salt: `fz${Math.floor(rand() * 1e6)}`, behaviour: "ok" };
    case "deployment_type":
      return "hostile";
    case "mode":
      return pick(rand, ["replace", "enqueue"]);
    case "priority":
      return pick(rand, ["interactive", "scheduled", "ci"]);
    case "request_id":
      return `req-${Math.floor(rand() * 50)}`;
    case "tenant":
      return ctx.tenant;
    case "state":
      return pick(rand, ["idle", "active", "deploying", "destroying"]);
    case "limit":
      return 1 + Math.floor(rand() * 100);
    case "cursor":
      return pick(rand, ["", "abc", "eyJ0IjoiYWNtZSJ9"]);
    case "sync":
      return ctx.syncs.length > 0 && rand() < 0.7 ? pick(rand, ctx.syncs) : "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    case "reason":
      return "fuzz";
    case "since":
    case "since_line":
      return Math.floor(rand() * 10);
    case "generation":
      return 1 + Math.floor(rand() * 3);
    case "derivation":
      return "/nix/store/00000000000000000000000000000000-x.drv";
    case "follow":
      return false;
    case "kind":
      return pick(rand, ["apply", "teardown"]);
    case "url":
      // Public but unreachable here (TEST-NET-1), refused (loopback, scheme), or not a URL.
      return pick(rand, ["http://192.0.2.10/hook", "https://192.0.2.11:8443/h?x=1", "http://127.0.0.1:1/", "ftp://192.0.2.10/", "not a url"]);
    case "events":
      return pick(rand, [["sync.finished"], ["sync.queued", "deployment.state"]]);
    case "description":
      return "fuzz";
    case "webhook":
      return "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    default:
      return "x";
  }
}
