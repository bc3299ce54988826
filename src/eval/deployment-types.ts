/**
 * The operator's deployment-types file: per type, its Nix entry point, the JSON Schema of its
 * configuration (with examples that must validate), its deployer, secret file references and
 * evaluation limits. The loader reports every problem with its path; nothing here reads secrets.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { z } from "zod";
import { configurationDepthViolation, defaultLimits } from "../core/index.js";
import { deployerConfigSchema, type DeployerConfig } from "../deploy/config.js";
import { AppError, type ProblemDetail } from "../errors.js";

export type EntryPoint =
  | { readonly kind: "file"; readonly file: string; readonly attrPath: readonly string[] }
  | { readonly kind: "flake"; readonly flake: string; readonly attrPath: readonly string[] };

export interface EvalSettings {
  readonly timeoutMs: number;
  /** nix-eval-jobs --workers; the fallback's per-attribute pool size. */
  readonly workers: number;
  /** nix-eval-jobs --max-memory-size (MiB). */
  readonly maxMemoryMib: number;
  /** Recurse into every nested attribute set (nix-eval-jobs --force-recurse). */
  readonly forceRecurse: boolean;
}

export interface DeploymentType {
  readonly name: string;
  readonly description: string;
  readonly entry: EntryPoint;
  /** The configuration's JSON Schema, as written by the operator (served by schema.get). */
  readonly schema: Readonly<Record<string, unknown>>;
  readonly deployer: DeployerConfig;
  /** Environment variable → absolute path of the file holding the secret (never read here). */
  readonly secrets: Readonly<Record<string, string>>;
  readonly eval: EvalSettings;
  /** Compiled validator of `schema`. */
  readonly validate: ValidateFunction;
}

export type DeploymentTypes = ReadonlyMap<string, DeploymentType>;

const typeName = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const envName = /^[A-Z_][A-Z0-9_]*$/;

const entrySchema = z.union([
  z.strictObject({ file: z.string().min(1), attribute: z.string().default("") }),
  z.strictObject({ flake: z.string().min(1), attribute: z.string().default("") }),
]);

const typeSchema = z.strictObject({
  description: z.string().default(""),
  entry: entrySchema,
  schema: z.record(z.string(), z.unknown()),
  deployer: z.unknown(),
  secrets: z.record(z.string().regex(envName, "must be an environment variable name"), z.string().min(1)).default({}),
  eval: z
    .strictObject({
      timeout_secs: z.number().int().min(1).max(86_400).default(300),
      workers: z.number().int().min(1).max(64).default(1),
      max_memory_mib: z.number().int().min(64).default(4096),
      force_recurse: z.boolean().default(false),
    })
    .default({ timeout_secs: 300, workers: 1, max_memory_mib: 4096, force_recurse: false }),
});

const fileSchema = z.strictObject({
  version: z.literal(1),
  deployment_types: z.record(z.string().regex(typeName, "must match ^[a-z0-9][a-z0-9_-]{0,62}$"), z.unknown()),
});

function zodProblems(prefix: string, error: z.ZodError): ProblemDetail[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter((p) => p !== "").join("."),
    message: i.message,
  }));
}

function newAjv(): Ajv {
  // ownProperties: a configuration's `constructor` or `__proto__` is its own key or absent, never
  // one inherited from Object.prototype (which would satisfy `required` or fail a type check).
  return new Ajv({ allErrors: true, strict: false, validateFormats: false, ownProperties: true });
}

/** ajv errors → `[{ path: "configuration.domain", message }]`. */
export function ajvProblems(prefix: string, errors: readonly ErrorObject[] | null | undefined): ProblemDetail[] {
  return (errors ?? []).map((e) => {
    const parts = e.instancePath
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const params = e.params as Record<string, unknown>;
    if (e.keyword === "required" && typeof params.missingProperty === "string") parts.push(params.missingProperty);
    if (e.keyword === "additionalProperties" && typeof params.additionalProperty === "string") {
      parts.push(params.additionalProperty);
      return { path: [prefix, ...parts].join("."), message: "is not allowed" };
    }
    return { path: [prefix, ...parts].join("."), message: e.message ?? e.keyword };
  });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function splitAttribute(attribute: string): string[] {
  return attribute === "" ? [] : attribute.split(".");
}

/** Resolves `path:./x` flake references relative to the file's folder; others are kept. */
function resolveFlake(ref: string, base: string): string {
  const m = /^path:(.*)$/.exec(ref);
  if (m?.[1] !== undefined && !isAbsolute(m[1])) return `path:${resolve(base, m[1])}`;
  if (ref.startsWith(".")) return `path:${resolve(base, ref)}`;
  return ref;
}

/** Parses and checks a deployment-types document. `baseDir` resolves relative paths. */
export async function parseDeploymentTypes(doc: unknown, baseDir: string): Promise<DeploymentTypes> {
  const problems: ProblemDetail[] = [];
  const top = fileSchema.safeParse(doc);
  if (!top.success) throw new AppError("invalid_argument", "invalid deployment types file", zodProblems("", top.error));
  const types = new Map<string, DeploymentType>();
  for (const [name, raw] of Object.entries(top.data.deployment_types)) {
    const at = `deployment_types.${name}`;
    const parsed = typeSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push(...zodProblems(at, parsed.error));
      continue;
    }
    const t = parsed.data;
    let ok = true;
    const deployer = deployerConfigSchema.safeParse(t.deployer);
    if (!deployer.success) {
      problems.push(...zodProblems(`${at}.deployer`, deployer.error));
      ok = false;
    }
    let entry: EntryPoint;
    if ("file" in t.entry) {
      const file = resolve(baseDir, t.entry.file);
      if (!(await isFile(file))) {
        problems.push({ path: `${at}.entry.file`, message: `no such file: ${file}` });
        ok = false;
      }
      entry = { kind: "file", file, attrPath: splitAttribute(t.entry.attribute) };
    } else {
      entry = { kind: "flake", flake: resolveFlake(t.entry.flake, baseDir), attrPath: splitAttribute(t.entry.attribute) };
    }
    let validate: ValidateFunction | undefined;
    try {
      validate = newAjv().compile(t.schema);
    } catch (err) {
      problems.push({ path: `${at}.schema`, message: `not a valid JSON Schema: ${(err as Error).message}` });
      ok = false;
    }
    const examples = t.schema.examples;
    if (!Array.isArray(examples) || examples.length === 0) {
      problems.push({ path: `${at}.schema.examples`, message: "needs at least one valid example configuration" });
      ok = false;
    } else if (validate) {
      examples.forEach((example: unknown, i) => {
        if (!validate(example)) {
          problems.push(...ajvProblems(`${at}.schema.examples.${i}`, validate.errors));
          ok = false;
        }
      });
    }
    if (!ok || !validate || !deployer.success) continue;
    types.set(name, {
      name,
      description: t.description,
      entry,
      schema: t.schema,
      deployer: deployer.data,
      secrets: Object.fromEntries(Object.entries(t.secrets).map(([k, v]) => [k, resolve(baseDir, v)])),
      eval: {
        timeoutMs: t.eval.timeout_secs * 1000,
        workers: t.eval.workers,
        maxMemoryMib: t.eval.max_memory_mib,
        forceRecurse: t.eval.force_recurse,
      },
      validate,
    });
  }
  if (problems.length > 0) {
    throw new AppError("invalid_argument", `invalid deployment types file: ${problems.length} problem(s)`, problems);
  }
  return types;
}

/** Reads the deployment-types JSON file; every problem is reported with its path. */
export async function loadDeploymentTypes(file: string): Promise<DeploymentTypes> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new AppError("invalid_argument", `cannot read deployment types file ${file}: ${(err as Error).message}`, [
      { path: "", message: `cannot read ${file}` },
    ]);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new AppError("invalid_argument", `deployment types file ${file} is not JSON`, [
      { path: "", message: (err as Error).message },
    ]);
  }
  try {
    return await parseDeploymentTypes(doc, dirname(resolve(file)));
  } catch (err) {
    if (err instanceof AppError) throw new AppError(err.code, `${file}: ${err.message}`, err.details);
    throw err;
  }
}

/** The built-in default set shipped in examples/. */
export const defaultDeploymentTypesFile = new URL("../../examples/deployment-types.json", import.meta.url).pathname;

/**
 * Path of the first string (key or value) holding a NUL character: Nix strings are C strings, so
 * builtins.fromJSON would silently cut them there.
 */
function findNul(value: unknown, path: string): string | null {
  const stack: [unknown, string][] = [[value, path]];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes("\u0000")) return at;
    } else if (Array.isArray(v)) {
      v.forEach((child, i) => stack.push([child, `${at}.${i}`]));
    } else if (v !== null && typeof v === "object") {
      for (const [k, child] of Object.entries(v)) {
        if (k.includes("\u0000")) return `${at}.${k.split("\u0000").join("\\0")}`;
        stack.push([child, `${at}.${k}`]);
      }
    }
  }
  return null;
}

/**
 * Checks a configuration against its type's schema.
 * @throws AppError invalid_argument with details `[{ path: "configuration.domain", message }]`
 */
export function validateConfiguration(type: DeploymentType, configuration: unknown): void {
  if (configuration === null || typeof configuration !== "object" || Array.isArray(configuration)) {
    throw new AppError("invalid_argument", "configuration must be an object", [
      { path: "configuration", message: "must be an object" },
    ]);
  }
  const tooDeep = configurationDepthViolation(configuration, defaultLimits);
  if (tooDeep) throw AppError.fromViolation(tooDeep);
  const nulAt = findNul(configuration, "configuration");
  if (nulAt !== null) {
    throw new AppError("invalid_argument", `configuration string at ${nulAt} contains a NUL character`, [
      { path: nulAt, message: "must not contain NUL characters" },
    ]);
  }
  if (!type.validate(configuration)) {
    const details = ajvProblems("configuration", type.validate.errors);
    throw new AppError(
      "invalid_argument",
      `invalid configuration for ${type.name}: ${details.map((d) => `${d.path} ${d.message}`).join("; ")}`,
      details,
    );
  }
}

/** The docs/api.md `schema.get` result: every type (or the one named) with its description and schema. */
export function describeDeploymentTypes(
  types: DeploymentTypes,
  name?: string,
): { deployment_types: Record<string, { description: string; schema: Readonly<Record<string, unknown>> }> } {
  const selected = name === undefined ? [...types.values()] : [types.get(name)];
  const out: Record<string, { description: string; schema: Readonly<Record<string, unknown>> }> = {};
  for (const t of selected) {
    if (!t) throw new AppError("not_found", `unknown deployment type: ${name}`, [{ path: "deployment_type", message: "unknown deployment type" }]);
    out[t.name] = { description: t.description, schema: t.schema };
  }
  return { deployment_types: out };
}
