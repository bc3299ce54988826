/** Webhooks: URL rules, signing, sealed secrets, the HTTP sender, the retry schedule and the delivery loop. */
export * from "./address-ranges.js";
export * from "./url-policy.js";
export * from "./signature.js";
export * from "./secret-box.js";
export * from "./key-file.js";
export * from "./retry-schedule.js";
export * from "./http-sender.js";
export * from "./delivery-worker.js";
