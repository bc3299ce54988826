/** Stored generations of a deployment (for rollback and history). */
import { AppError } from "../errors.js";
import type { StoreContext } from "./context.js";
import { requireDeployment } from "./lookups.js";

export interface Generation {
  readonly number: number;
  readonly configHash: string;
  readonly configuration: unknown;
  readonly outputPaths: string[];
  /** The sync that produced it. */
  readonly sync: string;
  readonly createdAt: string;
}

interface GenerationRow {
  number: number;
  config_hash: string;
  configuration: string;
  output_paths: string;
  sync: string;
  created_at: string;
}

const COLUMNS = "number, config_hash, configuration, output_paths, sync, created_at";

function generationOf(r: GenerationRow): Generation {
  return {
    number: r.number,
    configHash: r.config_hash,
    configuration: JSON.parse(r.configuration) as unknown,
    outputPaths: JSON.parse(r.output_paths) as string[],
    sync: r.sync,
    createdAt: r.created_at,
  };
}

export function getGeneration(ctx: StoreContext, tenant: string, deployment: string, number: number): Generation {
  const dep = requireDeployment(ctx, tenant, deployment);
  const r = ctx.stmt(`SELECT ${COLUMNS} FROM generations WHERE deployment_id = ? AND number = ?`).get(dep.id, number) as GenerationRow | undefined;
  if (!r) throw new AppError("not_found", `deployment ${deployment} has no generation ${number}`);
  return generationOf(r);
}

/** All generations, newest first. */
export function listGenerations(ctx: StoreContext, tenant: string, deployment: string): Generation[] {
  const dep = requireDeployment(ctx, tenant, deployment);
  const rows = ctx.stmt(`SELECT ${COLUMNS} FROM generations WHERE deployment_id = ? ORDER BY number DESC`).all(dep.id) as GenerationRow[];
  return rows.map(generationOf);
}
