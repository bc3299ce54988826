/**
 * SubmitBuild input checks, in rio-build's order and with its limits (docs/rio-build.md, behaviour 7).
 * Returns the deduplicated nodes and edges; anything wrong is an `invalid_argument` AppError
 * (INVALID_ARGUMENT on the wire).
 */
import type { SubmitBuildRequest } from "../../generated/build_types_pb.js";
import { AppError } from "../errors.js";

export const maxDagNodes = 1_048_576;
export const maxDagEdges = 5_242_880;
export const maxDrvContentBytes = 256 * 1024;
export const storeDir = "/nix/store";

export type PriorityClassName = "ci" | "interactive" | "scheduled";

export interface SubmittedNode {
  readonly drvPath: string;
  readonly drvHash: string;
  readonly pname: string;
  readonly system: string;
  readonly outputNames: readonly string[];
  readonly outputPaths: readonly string[];
  readonly drvContent: Uint8Array;
  /** A 32-byte ca_modular_hash: rio's domain layer keeps it (floating CA) and skips the top-down prune. */
  readonly floatingCa: boolean;
}

export interface SubmittedEdge {
  readonly parent: string;
  readonly child: string;
}

export interface ValidSubmission {
  readonly nodes: readonly SubmittedNode[];
  readonly edges: readonly SubmittedEdge[];
  readonly priorityClass: PriorityClassName;
}

const nixBase32 = "0123456789abcdfghijklmnpqrsvwxyz";
const hashPart = new RegExp(`^[${nixBase32}]{32}$`);
const namePart = /^[A-Za-z0-9+\-._?=]+$/;

/** Nix's store-path parser: `<storeDir>/<32 nixbase32>-<name>`, name 1..211 allowed characters. */
export function isStorePath(path: string): boolean {
  if (!path.startsWith(`${storeDir}/`)) return false;
  const base = path.slice(storeDir.length + 1);
  if (base.includes("/")) return false;
  const hash = base.slice(0, 32);
  const name = base.slice(33);
  return base[32] === "-" && hashPart.test(hash) && name.length > 0 && name.length <= 211 && namePart.test(name) && !name.startsWith(".");
}

export function isDrvPath(path: string): boolean {
  return isStorePath(path) && path.endsWith(".drv");
}

function invalid(message: string): AppError {
  return new AppError("invalid_argument", message);
}

export function parsePriorityClass(raw: string): PriorityClassName {
  if (raw === "") return "scheduled";
  if (raw === "ci" || raw === "interactive" || raw === "scheduled") return raw;
  throw invalid(`invalid priority_class: ${JSON.stringify(raw)} (expected ci, interactive or scheduled)`);
}

export function validateSubmission(req: SubmitBuildRequest): ValidSubmission {
  if (req.nodes.length > maxDagNodes) throw invalid(`too many nodes: ${req.nodes.length} > ${maxDagNodes}`);
  if (req.edges.length > maxDagEdges) throw invalid(`too many edges: ${req.edges.length} > ${maxDagEdges}`);
  const nodes = new Map<string, SubmittedNode>();
  for (const [i, n] of req.nodes.entries()) {
    if (n.drvHash === "") throw invalid(`nodes[${i}]: drv_hash is empty`);
    if (!isDrvPath(n.drvPath)) throw invalid(`nodes[${i}]: drv_path is not a store path ending in .drv: ${JSON.stringify(n.drvPath)}`);
    if (n.system === "") throw invalid(`nodes[${i}]: system is empty`);
    if (n.drvContent.length > maxDrvContentBytes) {
      throw invalid(`nodes[${i}]: drv_content is ${n.drvContent.length} bytes (limit ${maxDrvContentBytes})`);
    }
    if (nodes.has(n.drvPath)) continue;
    nodes.set(n.drvPath, {
      drvPath: n.drvPath,
      drvHash: n.drvHash,
      pname: n.pname,
      system: n.system,
      outputNames: [...n.outputNames],
      outputPaths: [...n.expectedOutputPaths],
      drvContent: n.drvContent,
      floatingCa: n.caModularHash.length === 32,
    });
  }
  const priorityClass = parsePriorityClass(req.priorityClass);
  const edges = new Map<string, SubmittedEdge>();
  for (const e of req.edges) {
    const key = `${e.parentDrvPath}\u0000${e.childDrvPath}`;
    if (!edges.has(key)) edges.set(key, { parent: e.parentDrvPath, child: e.childDrvPath });
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()], priorityClass };
}

/**
 * rio's tenant-name normalizer (rio-common/src/tenant.rs NormalizedName): trimmed; empty and
 * interior whitespace are errors, with rio's texts.
 */
export function normalizeTenantName(raw: string): { ok: true; name: string } | { ok: false; reason: string } {
  const name = raw.trim();
  if (name === "") return { ok: false, reason: "name is empty after trimming" };
  if (/\s/.test(name)) return { ok: false, reason: `name contains interior whitespace: ${JSON.stringify(name)}` };
  return { ok: true, name };
}
