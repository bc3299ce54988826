/**
 * The webhook procedures of the service (docs/webhooks.md): a new webhook's URL is checked against
 * the address policy (names resolved, every address checked), its signing secret is made here,
 * sealed for the store, and returned once; nothing else ever returns it.
 */
import type { Store } from "../store/index.js";
import { newWebhookSecret, type AddressPolicy, type SecretBox } from "../webhooks/index.js";
import type { DeploymentService } from "./port.js";

export interface WebhookDeps {
  readonly store: Store;
  readonly policy: AddressPolicy;
  readonly secrets: SecretBox;
}

export type WebhookOperations = Pick<DeploymentService, "createWebhook" | "listWebhooks" | "deleteWebhook" | "webhookDeliveries">;

export function createWebhookOperations(deps: WebhookDeps): WebhookOperations {
  const { store } = deps;
  return {
    async createWebhook(input) {
      const url = await deps.policy.checkUrl(input.url);
      const secret = newWebhookSecret();
      const webhook = store.createWebhook({
        tenant: input.tenant,
        // Stored as parsed, so the webhook shows the address it will dial (`http://2130706433/` → `http://127.0.0.1/`).
        url: url.href,
        events: input.events,
        deployment: input.deployment ?? null,
        description: input.description ?? null,
        sealSecret: (id) => deps.secrets.seal(id, secret),
      });
      return { webhook, secret };
    },

    async listWebhooks(input) {
      return { webhooks: store.listWebhooks(input.tenant) };
    },

    async deleteWebhook(input) {
      store.deleteWebhook(input.tenant, input.webhook);
      return { deleted: true };
    },

    async webhookDeliveries(input) {
      return store.listDeliveries(input.tenant, input.webhook, { limit: input.limit, ...(input.cursor !== undefined ? { cursor: input.cursor } : {}) });
    },
  };
}
