/**
 * `fediversity-deploy <command>`: a WAMP client of the deployment API like any other.
 * `runCli(argv)` returns the exit code; src/main.ts dispatches to it.
 */
import { readFile } from "node:fs/promises";
import autobahn from "autobahn";
import { AppError, type AppErrorCode } from "../errors.js";
import { procedureUris } from "../api/uris.js";
import type {
  CancelResult,
  DeploymentView,
  ListResult,
  LogsResult,
  PlanResult,
  QueueStatusResult,
  SchemaResult,
  SubmitResult,
  DeliveriesResult,
  HistoryResult,
  SyncView,
  WebhookCreateResult,
  WebhookDeleteResult,
  WebhookListResult,
} from "../core/index.js";
import { defaultRealm, defaultUrl, intOption, parseCliArgs, positional, usage, type ParsedArgs } from "./args.js";
import { connect, type Client } from "./client.js";
import {
  formatCancel,
  formatDeliveries,
  formatDeployment,
  formatHistory,
  formatList,
  formatPlan,
  formatQueue,
  formatSubmit,
  formatSyncDetail,
  formatWebhookCreated,
  formatWebhooks,
} from "./format.js";
import type { CliIo } from "./io.js";
import { watch } from "./watch.js";

export type { CliIo } from "./io.js";

/** Exit code for an error (see `usage`). */
export function exitCodeForError(code: AppErrorCode): number {
  switch (code) {
    case "invalid_argument":
      return 2;
    case "not_found":
    case "not_authorized":
    case "conflict":
    case "resource_exhausted":
    case "failed_precondition":
    case "internal":
      return 3;
    case "unavailable":
    case "timeout":
    case "cancelled":
      return 4;
    default: {
      const unreachable: never = code;
      return unreachable;
    }
  }
}

function defaultIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    async readFile(path) {
      if (path !== "-") return readFile(path, "utf8");
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}

async function readConfiguration(args: ParsedArgs, io: CliIo): Promise<Record<string, unknown>> {
  const inline = args.options["config-json"];
  const path = args.options.config;
  if (inline === undefined && path === undefined) {
    throw new AppError("invalid_argument", "a configuration is required: --config FILE (or - for stdin), or --config-json");
  }
  const text = inline ?? (await io.readFile(path ?? "-"));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AppError("invalid_argument", `configuration is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AppError("invalid_argument", "configuration must be a JSON object");
  }
  return value as Record<string, unknown>;
}

async function runCommand(args: ParsedArgs, client: Client, io: CliIo): Promise<number> {
  const o = args.options;
  const json = o.json === true;
  const tenant = o.tenant !== undefined ? { tenant: o.tenant } : {};
  const print = (result: unknown, human: () => string[]) => {
    io.stdout.write(json ? JSON.stringify(result) + "\n" : human().join("\n") + "\n");
  };
  const submitted = async (deployment: string, result: SubmitResult): Promise<number> => {
    if (o.watch !== true) {
      print(result, () => formatSubmit(result));
      return 0;
    }
    if (!json) print(result, () => formatSubmit(result));
    return watch(client, io, { tenant: o.tenant, deployment, sync: result.sync.sync, json });
  };

  switch (args.command) {
    case "submit": {
      const deployment = positional(args, 0, "deployment");
      const result = await client.call<SubmitResult>(procedureUris.submit, {
        deployment,
        configuration: await readConfiguration(args, io),
        deployment_type: o.type,
        mode: o.mode,
        priority: o.priority,
        request_id: o["request-id"],
        ...tenant,
      });
      return submitted(deployment, result);
    }
    case "plan": {
      const result = await client.call<PlanResult>(procedureUris.plan, {
        deployment: positional(args, 0, "deployment"),
        configuration: await readConfiguration(args, io),
        deployment_type: o.type,
        priority: o.priority,
        ...tenant,
      });
      print(result, () => formatPlan(result));
      return 0;
    }
    case "watch":
      return watch(client, io, { tenant: o.tenant, deployment: positional(args, 0, "deployment"), sync: o.sync ?? null, json });
    case "logs": {
      const kwargs = {
        deployment: positional(args, 0, "deployment"),
        sync: positional(args, 1, "sync"),
        since_line: intOption("since-line", o["since-line"]),
        limit: intOption("limit", o.limit),
        derivation: o.derivation,
        ...tenant,
      };
      const show = (batch: LogsResult) => {
        for (const line of batch.lines) io.stdout.write(json ? JSON.stringify(line) + "\n" : line.text + "\n");
      };
      if (o.follow === true) {
        const final = await client.callWithProgress<LogsResult>(procedureUris.logs, { ...kwargs, follow: true }, (p) =>
          show(p as LogsResult),
        );
        show(final);
        return 0;
      }
      // Without --follow: page through what is there now.
      let since = kwargs.since_line ?? 0;
      for (;;) {
        const page = await client.call<LogsResult>(procedureUris.logs, { ...kwargs, since_line: since });
        show(page);
        if (page.lines.length === 0 || page.next_line <= since || kwargs.limit !== undefined) break;
        since = page.next_line;
      }
      return 0;
    }
    case "cancel": {
      const result = await client.call<CancelResult>(procedureUris.cancel, {
        deployment: positional(args, 0, "deployment"),
        sync: o.sync,
        reason: o.reason,
        ...tenant,
      });
      print(result, () => formatCancel(result));
      return 0;
    }
    case "delete": {
      const deployment = positional(args, 0, "deployment");
      const result = await client.call<SubmitResult>(procedureUris.delete, {
        deployment,
        mode: o.mode,
        request_id: o["request-id"],
        ...tenant,
      });
      return submitted(deployment, result);
    }
    case "rollback": {
      const deployment = positional(args, 0, "deployment");
      const result = await client.call<SubmitResult>(procedureUris.rollback, {
        deployment,
        generation: intOption("generation", o.generation),
        ...tenant,
      });
      return submitted(deployment, result);
    }
    case "list": {
      const result = await client.call<ListResult>(procedureUris.list, {
        state: o.state,
        limit: intOption("limit", o.limit),
        cursor: o.cursor,
        ...tenant,
      });
      print(result, () => formatList(result));
      return 0;
    }
    case "status": {
      const deployment = args.positionals[0];
      if (deployment === undefined) {
        const result = await client.call<QueueStatusResult>(procedureUris.queueStatus, {});
        print(result, () => formatQueue(result));
        return 0;
      }
      const result = await client.call<DeploymentView>(procedureUris.get, { deployment, ...tenant });
      print(result, () => formatDeployment(result));
      return 0;
    }
    case "schema": {
      const result = await client.call<SchemaResult>(procedureUris.schema, { deployment_type: args.positionals[0] });
      io.stdout.write(JSON.stringify(result, null, json ? undefined : 2) + "\n");
      return 0;
    }
    case "history": {
      const result = await client.call<HistoryResult>(procedureUris.history, {
        deployment: positional(args, 0, "deployment"),
        state: o.state,
        kind: o.kind,
        limit: intOption("limit", o.limit),
        cursor: o.cursor,
        ...tenant,
      });
      print(result, () => formatHistory(result));
      return 0;
    }
    case "sync": {
      const result = await client.call<SyncView>(procedureUris.syncGet, { sync: positional(args, 0, "sync"), ...tenant });
      print(result, () => formatSyncDetail(result));
      return 0;
    }
    case "webhooks":
      return runWebhooks(args, client, print);
    case null:
      io.stdout.write(usage);
      return 2;
    default: {
      const unreachable: never = args.command;
      return unreachable;
    }
  }
}

async function runWebhooks(args: ParsedArgs, client: Client, print: (result: unknown, human: () => string[]) => void): Promise<number> {
  const o = args.options;
  const tenant = o.tenant !== undefined ? { tenant: o.tenant } : {};
  const action = positional(args, 0, "list|create|delete|deliveries");
  switch (action) {
    case "list": {
      const result = await client.call<WebhookListResult>(procedureUris.webhookList, { ...tenant });
      print(result, () => formatWebhooks(result));
      return 0;
    }
    case "create": {
      const result = await client.call<WebhookCreateResult>(procedureUris.webhookCreate, {
        url: positional(args, 1, "url"),
        events: o.events?.split(",").map((t) => t.trim()).filter((t) => t !== ""),
        deployment: o.deployment,
        description: o.description,
        ...tenant,
      });
      print(result, () => formatWebhookCreated(result));
      return 0;
    }
    case "delete": {
      const result = await client.call<WebhookDeleteResult>(procedureUris.webhookDelete, { webhook: positional(args, 1, "webhook"), ...tenant });
      print(result, () => ["deleted"]);
      return 0;
    }
    case "deliveries": {
      const result = await client.call<DeliveriesResult>(procedureUris.webhookDeliveries, {
        webhook: positional(args, 1, "webhook"),
        limit: intOption("limit", o.limit),
        cursor: o.cursor,
        ...tenant,
      });
      print(result, () => formatDeliveries(result));
      return 0;
    }
    default:
      throw new AppError("invalid_argument", `unknown webhooks action '${action}' (list, create, delete, deliveries)`);
  }
}

export async function runCli(argv: readonly string[], ioOverrides: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = { ...defaultIo(), ...ioOverrides };
  let args: ParsedArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    io.stderr.write(`fediversity-deploy: ${AppError.from(err).message}\n\n${usage}`);
    return 2;
  }
  if (args.options.help === true || args.command === null) {
    io.stdout.write(usage);
    return args.options.help === true ? 0 : 2;
  }
  // autobahn-js prints every connection change with console.warn; keep it for --verbose.
  const log = autobahn.log as unknown as { warn: (...a: unknown[]) => void };
  if (args.options.verbose !== true) log.warn = () => {};

  const env = io.env;
  let client: Client | null = null;
  try {
    client = await connect({
      url: args.options.url ?? env["FEDIVERSITY_URL"] ?? defaultUrl,
      realm: args.options.realm ?? env["FEDIVERSITY_REALM"] ?? defaultRealm,
      authid: args.options.authid ?? env["FEDIVERSITY_AUTHID"],
      ticket: args.options.ticket ?? env["FEDIVERSITY_TICKET"],
      reconnect: args.command === "watch" || args.options.watch === true,
    });
    return await runCommand(args, client, io);
  } catch (err) {
    const e = AppError.from(err);
    io.stderr.write(`fediversity-deploy: ${e.code}: ${e.message}\n`);
    for (const d of e.details ?? []) io.stderr.write(`  ${d.path || "(arguments)"}: ${d.message}\n`);
    return exitCodeForError(e.code);
  } finally {
    client?.close();
  }
}
