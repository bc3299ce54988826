/** URIs of the API contract: procedures, topics, and the topic names built per deployment. */

export const procedureUris = {
  submit: "fediversity.deployment.submit",
  plan: "fediversity.deployment.plan",
  get: "fediversity.deployment.get",
  list: "fediversity.deployment.list",
  cancel: "fediversity.deployment.cancel",
  delete: "fediversity.deployment.delete",
  rollback: "fediversity.deployment.rollback",
  events: "fediversity.deployment.events",
  logs: "fediversity.build.logs",
  graph: "fediversity.build.graph",
  schema: "fediversity.schema.get",
  queueStatus: "fediversity.queue.status",
  syncGet: "fediversity.sync.get",
  history: "fediversity.deployment.history",
  webhookCreate: "fediversity.webhook.create",
  webhookList: "fediversity.webhook.list",
  webhookDelete: "fediversity.webhook.delete",
  webhookDeliveries: "fediversity.webhook.deliveries",
} as const;

export type ProcedureName = keyof typeof procedureUris;
export type ProcedureUri = (typeof procedureUris)[ProcedureName];

export const allProcedureUris: readonly string[] = Object.values(procedureUris);

export const eventsTopicPrefix = "fediversity.events";
export const logsTopicPrefix = "fediversity.logs";

/** `fediversity.events.<tenant>.<deployment>`. */
export function eventsTopic(tenant: string, deployment: string): string {
  return `${eventsTopicPrefix}.${tenant}.${deployment}`;
}

/** `fediversity.logs.<tenant>.<deployment>`. */
export function logsTopic(tenant: string, deployment: string): string {
  return `${logsTopicPrefix}.${tenant}.${deployment}`;
}
