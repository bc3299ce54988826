/**
 * A derivation DAG as the translation layer produces it and the rio client submits it. Plain data,
 * shaped like rio-build's DerivationNode/DerivationEdge but free of protobuf types.
 */
export interface DagNode {
  /** `/nix/store/<hash>-<name>.drv`; also the node's key (rio's drv_hash == drv_path). */
  readonly drvPath: string;
  readonly pname: string;
  readonly system: string;
  readonly requiredFeatures: readonly string[];
  /** In .drv order; `expectedOutputPaths` runs parallel ("" for a floating CA output). */
  readonly outputNames: readonly string[];
  readonly expectedOutputPaths: readonly string[];
  readonly isFixedOutput: boolean;
  readonly isContentAddressed: boolean;
  readonly needsResolve: boolean;
  /** The .drv file bytes, inlined for nodes whose outputs are missing (gateway rules). */
  readonly drvContent?: Uint8Array;
  readonly inputSrcsNarSize?: number;
  /** Whether every expected output is already valid in the local store. */
  readonly cached?: boolean;
}

export interface DagEdge {
  /** The derivation that depends on `child`. */
  readonly parent: string;
  readonly child: string;
}

export interface BuildDag {
  /** The requested top-level derivations (several roots are allowed). */
  readonly roots: readonly string[];
  readonly nodes: readonly DagNode[];
  readonly edges: readonly DagEdge[];
}

export type PriorityClass = "interactive" | "scheduled" | "ci";
export const priorityClasses: readonly PriorityClass[] = ["interactive", "scheduled", "ci"];
