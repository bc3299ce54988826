import { readFileSync } from "node:fs";
import { z } from "zod";
import { AppError } from "../../errors.js";
import type { StaticPrincipal } from "./types.js";

const principalSchema = z
  .object({
    authid: z.string().min(1),
    role: z.string().min(1),
    tenant: z.string().min(1).optional(),
    extra: z.record(z.string(), z.unknown()).optional(),
    ticket: z.string().min(1).optional(),
    secret: z.string().min(1).optional(),
    salt: z.string().min(1).optional(),
    iterations: z.number().int().positive().optional(),
    keylen: z.number().int().positive().optional(),
    pubkey: z.string().regex(/^[0-9a-fA-F]{64}$/, "an Ed25519 public key as 64 hex digits").optional(),
  })
  .strict()
  .refine((p) => p.ticket !== undefined || p.secret !== undefined || p.pubkey !== undefined, {
    message: "needs one of ticket, secret or pubkey",
  });

const principalsSchema = z.array(principalSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((p, i) => {
    if (seen.has(p.authid)) ctx.addIssue({ code: "custom", path: [i, "authid"], message: `duplicate authid '${p.authid}'` });
    seen.add(p.authid);
  });
});

/** Throws AppError `invalid_argument` for an invalid list, with each problem's path in `details`. */
export function parsePrincipals(value: unknown, source = "principals"): StaticPrincipal[] {
  const parsed = principalsSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new AppError("invalid_argument", `${source}: ${problems.map((p) => `${p.path || "(root)"}: ${p.message}`).join("; ")}`, problems);
  }
  return parsed.data;
}

/** Reads a JSON array of principals (see StaticPrincipal) from a file. */
export function loadPrincipalsFile(path: string): StaticPrincipal[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new AppError("invalid_argument", `${path}: ${message}`, [{ path: "", message }], { cause: err });
  }
  return parsePrincipals(json, path);
}
