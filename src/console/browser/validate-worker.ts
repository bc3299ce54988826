/**
 * JSON Schema validation with ajv, in a dedicated worker: ajv compiles schemas with `new Function`,
 * which the page's Content-Security-Policy forbids. This worker's own policy allows eval and
 * nothing else (no network, no imports); it gets a schema and a value and answers problems in the
 * service's shape (`{ path: "configuration.domain", message }`), with ajv set up as the service's.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

export interface ValidateRequest {
  readonly id: number;
  readonly schema: unknown;
  readonly value: unknown;
}

export interface ValidateAnswer {
  readonly id: number;
  readonly problems: { path: string; message: string }[];
  /** The schema itself could not be compiled. */
  readonly failure?: string;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const compiled = new Map<string, ValidateFunction>();

function problems(errors: readonly ErrorObject[] | null | undefined): { path: string; message: string }[] {
  return (errors ?? []).map((e) => {
    const parts = e.instancePath
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const params = e.params as Record<string, unknown>;
    if (e.keyword === "required" && typeof params["missingProperty"] === "string") {
      parts.push(params["missingProperty"]);
      return { path: ["configuration", ...parts].join("."), message: "is required" };
    }
    if (e.keyword === "additionalProperties" && typeof params["additionalProperty"] === "string") {
      parts.push(params["additionalProperty"]);
      return { path: ["configuration", ...parts].join("."), message: "is not allowed" };
    }
    return { path: ["configuration", ...parts].join("."), message: e.message ?? e.keyword };
  });
}

const scope = self as unknown as { onmessage: ((e: MessageEvent<ValidateRequest>) => void) | null; postMessage(a: ValidateAnswer): void };

scope.onmessage = (e) => {
  const { id, schema, value } = e.data;
  try {
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(schema as object);
      compiled.set(key, validate);
    }
    scope.postMessage({ id, problems: validate(value) ? [] : problems(validate.errors) });
  } catch (err) {
    scope.postMessage({ id, problems: [], failure: err instanceof Error ? err.message : String(err) });
  }
};
