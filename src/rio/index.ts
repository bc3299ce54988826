/** Public surface of the rio client; protobuf types never cross this boundary. */
export { createRioClient, tenantTokenHeader } from "./client.js";
export type { RioClient, RioClientHooks, RioClientOptions } from "./client.js";
export type { BackoffPolicy } from "./backoff.js";
export { defaultReattachPolicy, defaultSubmitRetryPolicy } from "./backoff.js";
export type { FollowHooks, FollowOptions, ReattachInfo } from "./follow.js";
export type { SubmitOptions, SubmitRetryInfo, SubmittedBuild } from "./submit.js";
export { appErrorCodeFor, toAppError } from "./grpc-errors.js";
export * from "./types.js";
export { describeUndispatched, explainUndispatched } from "./undispatched.js";
