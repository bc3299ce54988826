/**
 * First start without a principals file: write one with demo users (two tenants, a panel and an
 * operator, each with a random ticket) so the quick start can be followed at once.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { StaticPrincipal } from "../router/index.js";

export async function ensurePrincipalsFile(path: string): Promise<{ created: boolean; principals?: StaticPrincipal[] }> {
  if (existsSync(path)) return { created: false };
  // Hex, so a ticket never starts with "-" and pastes safely after `--ticket`.
  const ticket = () => randomBytes(16).toString("hex");
  const principals: StaticPrincipal[] = [
    { authid: "acme-admin", role: "tenant", tenant: "acme", ticket: ticket() },
    { authid: "beta-admin", role: "tenant", tenant: "beta", ticket: ticket() },
    { authid: "panel", role: "panel", ticket: ticket() },
    { authid: "operator", role: "operator", ticket: ticket() },
  ];
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(principals, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return { created: true, principals };
}
