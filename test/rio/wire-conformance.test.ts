/**
 * Checks our proto/ (as compiled into generated/) against the field-by-field facts extracted from
 * rio-build's own .proto files: names, numbers, types, labels, proto3 optional, oneofs, type names,
 * reserved numbers, enum values and RPC paths/streaming. A wrong number or type fails here.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { clone, isFieldSet } from "@bufbuild/protobuf";
import type { DescriptorProto, EnumDescriptorProto, FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { FieldDescriptorProtoSchema, FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { file_admin } from "../../generated/admin_pb.js";
import { file_admin_types } from "../../generated/admin_types_pb.js";
import { file_build_types } from "../../generated/build_types_pb.js";
import { file_dag } from "../../generated/dag_pb.js";
import { file_scheduler } from "../../generated/scheduler_pb.js";
import { file_types } from "../../generated/types_pb.js";

interface FieldFact {
  label: number;
  number: number;
  oneof: string | null;
  optional: boolean;
  type: number;
  type_name: string;
}
interface MessageFact {
  fields: Record<string, FieldFact>;
  reserved: number[];
}
interface RpcFact {
  client_streaming: boolean;
  server_streaming: boolean;
  in: string;
  out: string;
}
interface WireFacts {
  enums: Record<string, Record<string, number>>;
  messages: Record<string, MessageFact>;
  services: Record<string, Record<string, RpcFact>>;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
// rio-build's own .proto files reduced to field facts (docs/rio-build.md, "Wire conformance").
const facts = JSON.parse(readFileSync(resolve(repoRoot, "test/fixtures/rio-wire-facts.json"), "utf8")) as WireFacts;

/** The RPCs this project calls (docs/rio-build.md); everything they reach is in scope. */
const inScopeRpcs: Record<string, string[]> = {
  ".rio.scheduler.SchedulerService": ["SubmitBuild", "WatchBuild", "QueryBuildStatus", "CancelBuild", "ResolveTenant"],
  ".rio.admin.AdminService": ["ListBuilds", "GetBuildLogs", "ClusterStatus", "GetBuildGraph", "ListTenants", "CreateTenant"],
};

const ourFiles: FileDescriptorProto[] = [file_scheduler, file_admin, file_build_types, file_dag, file_types, file_admin_types].map(
  (f) => f.proto,
);

function indexOurs(files: FileDescriptorProto[]) {
  const messages = new Map<string, DescriptorProto>();
  const enums = new Map<string, EnumDescriptorProto>();
  const walk = (prefix: string, msgs: DescriptorProto[], ens: EnumDescriptorProto[]) => {
    for (const e of ens) enums.set(`${prefix}.${e.name}`, e);
    for (const m of msgs) {
      const name = `${prefix}.${m.name}`;
      messages.set(name, m);
      walk(name, m.nestedType, m.enumType);
    }
  };
  for (const f of files) walk(`.${f.package}`, f.messageType, f.enumType);
  return { messages, enums };
}

/** Our message in the facts' shape. */
function messageFacts(m: DescriptorProto): MessageFact {
  const fields: Record<string, FieldFact> = {};
  for (const f of m.field) {
    const synthetic = f.proto3Optional;
    fields[f.name] = {
      label: f.label,
      number: f.number,
      // The embedded descriptors give unset proto2 fields their default, so ask for presence.
      oneof:
        isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex) && !synthetic
          ? (m.oneofDecl[f.oneofIndex ?? 0]?.name ?? "?")
          : null,
      optional: f.proto3Optional ?? false,
      type: f.type,
      type_name: f.typeName ?? "",
    };
  }
  const reserved: number[] = [];
  for (const r of m.reservedRange) for (let n = r.start ?? 0; n < (r.end ?? 0); n++) reserved.push(n);
  return { fields, reserved: reserved.sort((a, b) => a - b) };
}

function enumFacts(e: EnumDescriptorProto): Record<string, number> {
  return Object.fromEntries(e.value.map((v) => [v.name, v.number]));
}

/** Every message and enum reachable from the in-scope RPCs, per the facts. */
function inScopeTypes(): { messages: Set<string>; enums: Set<string> } {
  const messages = new Set<string>();
  const enums = new Set<string>();
  const visit = (name: string) => {
    if (name.startsWith(".google.protobuf.")) return;
    if (facts.enums[name]) {
      enums.add(name);
      return;
    }
    if (messages.has(name)) return;
    const m = facts.messages[name];
    if (!m) throw new Error(`facts lack ${name}`);
    messages.add(name);
    for (const f of Object.values(m.fields)) if (f.type_name) visit(f.type_name);
  };
  for (const [svc, rpcs] of Object.entries(inScopeRpcs)) {
    for (const rpc of rpcs) {
      const r = facts.services[svc]?.[rpc];
      if (!r) throw new Error(`facts lack ${svc}/${rpc}`);
      visit(r.in);
      visit(r.out);
    }
  }
  return { messages, enums };
}

/** Differences between one of our messages and the facts, as readable lines. */
function diffMessage(name: string, ours: MessageFact, want: MessageFact): string[] {
  const out: string[] = [];
  for (const [field, w] of Object.entries(want.fields)) {
    const o = ours.fields[field];
    if (!o) {
      out.push(`${name}.${field}: missing`);
      continue;
    }
    for (const key of Object.keys(w) as (keyof FieldFact)[]) {
      if (o[key] !== w[key]) out.push(`${name}.${field}.${key}: ours ${String(o[key])}, rio ${String(w[key])}`);
    }
  }
  for (const field of Object.keys(ours.fields)) if (!want.fields[field]) out.push(`${name}.${field}: not in rio`);
  if (JSON.stringify(ours.reserved) !== JSON.stringify([...want.reserved].sort((a, b) => a - b))) {
    out.push(`${name} reserved: ours [${ours.reserved.join(",")}], rio [${want.reserved.join(",")}]`);
  }
  return out;
}

function diffAll(files: FileDescriptorProto[]): string[] {
  const ours = indexOurs(files);
  const scope = inScopeTypes();
  const problems: string[] = [];
  for (const name of [...scope.messages].sort()) {
    const m = ours.messages.get(name);
    const want = facts.messages[name];
    if (!m || !want) problems.push(`${name}: missing from our protos`);
    else problems.push(...diffMessage(name, messageFacts(m), want));
  }
  // Messages we define beyond the closure must still agree with rio where rio has them.
  for (const [name, m] of ours.messages) {
    if (scope.messages.has(name)) continue;
    const want = facts.messages[name];
    if (!want) problems.push(`${name}: not a rio message`);
    else problems.push(...diffMessage(name, messageFacts(m), want));
  }
  for (const name of [...scope.enums].sort()) {
    const e = ours.enums.get(name);
    if (!e) problems.push(`${name}: enum missing`);
    else if (JSON.stringify(sortedObj(enumFacts(e))) !== JSON.stringify(sortedObj(facts.enums[name] ?? {}))) {
      problems.push(`${name}: enum values ours ${JSON.stringify(enumFacts(e))}, rio ${JSON.stringify(facts.enums[name])}`);
    }
  }
  for (const [name, e] of ours.enums) {
    if (!scope.enums.has(name) && JSON.stringify(sortedObj(enumFacts(e))) !== JSON.stringify(sortedObj(facts.enums[name] ?? {}))) {
      problems.push(`${name}: enum differs from rio`);
    }
  }
  return problems;
}

function sortedObj(o: Record<string, number>): [string, number][] {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}

function diffServices(files: FileDescriptorProto[]): string[] {
  const problems: string[] = [];
  const ours = new Map<string, RpcFact>();
  for (const f of files) {
    for (const s of f.service) {
      for (const m of s.method) {
        ours.set(`/${f.package}.${s.name}/${m.name}`, {
          in: m.inputType ?? "",
          out: m.outputType ?? "",
          client_streaming: m.clientStreaming ?? false,
          server_streaming: m.serverStreaming ?? false,
        });
      }
    }
  }
  const wanted = new Set<string>();
  for (const [svc, rpcs] of Object.entries(inScopeRpcs)) {
    for (const rpc of rpcs) {
      const path = `/${svc.slice(1)}/${rpc}`;
      wanted.add(path);
      const o = ours.get(path);
      const w = facts.services[svc]?.[rpc];
      if (!o) problems.push(`${path}: missing`);
      else if (JSON.stringify(sortedRpc(o)) !== JSON.stringify(sortedRpc(w))) {
        problems.push(`${path}: ours ${JSON.stringify(o)}, rio ${JSON.stringify(w)}`);
      }
    }
  }
  for (const path of ours.keys()) if (!wanted.has(path)) problems.push(`${path}: not an in-scope rio RPC`);
  return problems;
}

function sortedRpc(r: RpcFact | undefined) {
  return r && [r.in, r.out, r.client_streaming, r.server_streaming];
}

describe("wire conformance with rio-build", () => {
  it("every in-scope message, field, enum and reserved number matches rio", () => {
    expect(diffAll(ourFiles)).toEqual([]);
  });

  it("every RPC we call has rio's path, types and streaming kind", () => {
    expect(diffServices(ourFiles)).toEqual([]);
  });

  it("keeps rio's reserved numbers (SubmitBuildRequest 1, GraphEdge 3)", () => {
    const { messages } = indexOurs(ourFiles);
    expect(messageFacts(messages.get(".rio.types.SubmitBuildRequest")!).reserved).toEqual([1]);
    expect(messageFacts(messages.get(".rio.types.GraphEdge")!).reserved).toEqual([3]);
  });

  it("notices a wrong field number, type, label, missing reserved range and changed RPC", () => {
    const mutated = ourFiles.map((f) => clone(FileDescriptorProtoSchema, f));
    const bt = mutated.find((f) => f.name === "build_types.proto")!;
    const ev = bt.messageType.find((m) => m.name === "BuildEvent")!;
    ev.field.find((f) => f.name === "sequence")!.number = 20;
    const submit = bt.messageType.find((m) => m.name === "SubmitBuildRequest")!;
    submit.reservedRange = [];
    submit.field.find((f) => f.name === "keep_going")!.type = 13;
    const dag = mutated.find((f) => f.name === "dag.proto")!;
    dag.messageType.find((m) => m.name === "DerivationNode")!.field.find((f) => f.name === "output_names")!.label = 1;
    const sched = mutated.find((f) => f.name === "scheduler.proto")!;
    sched.service[0]!.method.find((m) => m.name === "WatchBuild")!.serverStreaming = false;

    const types = mutated.find((f) => f.name === "types.proto")!;
    types.enumType.find((e) => e.name === "BuildResultStatus")!.value.find((v) => v.number === 12)!.number = 15;
    const problems = diffAll(mutated);
    expect(problems).toContain(".rio.types.BuildEvent.sequence.number: ours 20, rio 2");
    expect(problems).toContain(".rio.types.SubmitBuildRequest.keep_going.type: ours 13, rio 8");
    expect(problems).toContain(".rio.types.DerivationNode.output_names.label: ours 1, rio 3");
    expect(problems.some((p) => p.startsWith(".rio.types.SubmitBuildRequest reserved"))).toBe(true);
    expect(problems.some((p) => p.startsWith(".rio.types.BuildResultStatus: enum values"))).toBe(true);
    expect(diffServices(mutated).some((p) => p.startsWith("/rio.scheduler.SchedulerService/WatchBuild"))).toBe(true);
  });
});
