/**
 * How a deployment type says where and how its build result is activated. Operators write this in
 * the deployment-types file; the loader in src/eval/ validates it with this schema.
 */
import { z } from "zod";

const argvTemplate = z
  .array(z.string().min(1))
  .min(1)
  .describe("argv run without a shell; {out}, {deployment}, {tenant}, {generation}, {target} are substituted per element");

export const deployerConfigSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("local"),
    /** Whether a failed activation re-activates the previous generation. */
    rollback_on_failure: z.boolean().default(true),
  }),
  z.object({
    kind: z.literal("ssh"),
    host: z.string().min(1),
    user: z.string().min(1).default("root"),
    port: z.number().int().min(1).max(65535).default(22),
    identity_file: z.string().optional(),
    /** Extra `-o Key=Value` options, e.g. StrictHostKeyChecking=accept-new. */
    ssh_options: z.array(z.string()).default([]),
    /** The service's state directory on the remote host (profiles/ and targets/ live under it). */
    state_dir: z.string().startsWith("/").default("/var/lib/fediversity-deploy"),
    rollback_on_failure: z.boolean().default(true),
  }),
  z.object({
    kind: z.literal("command"),
    apply: argvTemplate,
    teardown: argvTemplate.optional(),
    rollback: argvTemplate.optional(),
    rollback_on_failure: z.boolean().default(true),
  }),
]);

export type DeployerConfig = z.infer<typeof deployerConfigSchema>;
export type DeployerKind = DeployerConfig["kind"];
