/** What every page gets: the WAMP client, the tenant it acts for, announcements, shared workers. */
import type { Announcer } from "./announcer.js";
import type { GraphLayouter } from "./graph-layouter.js";
import type { Validator } from "./validator.js";
import type { WampClient } from "./wamp-client.js";

export interface AppContext {
  readonly client: WampClient;
  readonly announcer: Announcer;
  readonly validator: () => Validator;
  readonly layouter: () => GraphLayouter;
  /** Panel and operator: the tenant picked in the header (null = all, operator and panel lists). */
  tenantScope(): string | null;
  setTenantScope(tenant: string | null): void;
  navigate(hash: string): void;
}

export interface Page {
  readonly title: string;
  readonly element: HTMLElement;
  dispose(): void;
}

/** The `tenant` kwarg for calls about one tenant's deployment: always sent, so the API decides. */
export function tenantArg(tenant: string): { tenant: string } {
  return { tenant };
}
