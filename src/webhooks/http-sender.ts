/**
 * One delivery attempt over HTTP(S): POST the body with the given headers, through the address
 * policy (only checked addresses are dialled, names are resolved again for every new connection),
 * with one deadline for the whole attempt, no redirects followed, and at most `maxResponseBytes`
 * of the answer read. Connections are kept alive and reused per origin.
 *
 * An attempt never throws: it ends as an outcome, success meaning a 2xx status line within the
 * deadline (the answer's body is drained, bounded, only so the connection can be reused).
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { AppError } from "../errors.js";
import { classifyAddress } from "./address-ranges.js";
import { parseWebhookUrl, urlHost, type AddressPolicy } from "./url-policy.js";

export interface DeliveryRequest {
  readonly url: string;
  readonly body: string;
  /** Lower-case header names; content-length and user-agent are added here. */
  readonly headers: Readonly<Record<string, string>>;
}

export type SendOutcome =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly status: number | null; readonly error: string };

export interface HttpSender {
  send(request: DeliveryRequest): Promise<SendOutcome>;
  /** Closes the pooled connections. */
  close(): void;
}

export interface HttpSenderOptions {
  readonly policy: AddressPolicy;
  /** The whole attempt: connect, send, status line (default 10 s, the contract's). */
  readonly timeoutMs?: number;
  /** How much of an answer is read before the connection is dropped (default 64 KiB). */
  readonly maxResponseBytes?: number;
  readonly userAgent?: string;
  /** Connections per origin (default 64). */
  readonly maxSocketsPerOrigin?: number;
  /** Extra trusted CA certificates for https (tests; operators can use NODE_EXTRA_CA_CERTS). */
  readonly ca?: string | Buffer;
}

export const defaultDeliveryTimeoutMs = 10_000;
export const defaultMaxResponseBytes = 64 * 1024;

export function createHttpSender(options: HttpSenderOptions): HttpSender {
  const timeoutMs = options.timeoutMs ?? defaultDeliveryTimeoutMs;
  const maxResponseBytes = options.maxResponseBytes ?? defaultMaxResponseBytes;
  const userAgent = options.userAgent ?? "fediversity-deploy-webhooks";
  const pool = { keepAlive: true, maxSockets: options.maxSocketsPerOrigin ?? 64, maxFreeSockets: 64, scheduling: "lifo" as const };
  const httpAgent = new HttpAgent(pool);
  const httpsAgent = new HttpsAgent({ ...pool, ...(options.ca ? { ca: options.ca } : {}) });

  const send = async (request: DeliveryRequest): Promise<SendOutcome> => {
    let url: URL;
    try {
      url = parseWebhookUrl(request.url);
    } catch (err) {
      return { ok: false, status: null, error: withoutPrefix(AppError.from(err).message) };
    }
    // Literal addresses are never looked up, so the policy's lookup would not see them.
    const host = urlHost(url);
    if (classifyAddress(host) !== null) {
      const why = options.policy.refusal(host);
      if (why !== null) return { ok: false, status: null, error: `refused: ${why}` };
    }
    const headers = {
      ...request.headers,
      "content-length": String(Buffer.byteLength(request.body)),
      "user-agent": userAgent,
    };
    const deadline = Date.now() + timeoutMs;
    const first = await attempt(url, request.body, headers, deadline, true);
    // A pooled connection the receiver closed while idle fails before anything was answered:
    // that is not the receiver's answer, so the same attempt goes once more on a new connection.
    if (first.staleSocket && Date.now() < deadline) return (await attempt(url, request.body, headers, deadline, false)).outcome;
    return first.outcome;
  };

  const attempt = (
    url: URL,
    body: string,
    headers: Record<string, string>,
    deadline: number,
    pooled: boolean,
  ): Promise<{ outcome: SendOutcome; staleSocket: boolean }> =>
    new Promise((resolve) => {
      const https = url.protocol === "https:";
      const agent = pooled ? (https ? httpsAgent : httpAgent) : false;
      let settled = false;
      let answered = false;
      let timedOut = false;
      const settle = (outcome: SendOutcome, staleSocket = false) => {
        if (settled) return;
        settled = true;
        resolve({ outcome, staleSocket });
      };
      const requestOptions = {
        method: "POST",
        headers,
        agent,
        lookup: options.policy.lookup,
        ...(https && !pooled && options.ca ? { ca: options.ca } : {}),
      };
      let req: ClientRequest;
      try {
        req = (https ? httpsRequest : httpRequest)(url, requestOptions);
      } catch (err) {
        settle({ ok: false, status: null, error: (err as Error).message });
        return;
      }
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
        if (!answered) settle({ ok: false, status: null, error: `no answer within ${formatSeconds(timeoutMs)}` });
      }, Math.max(0, deadline - Date.now()));
      req.on("response", (res: IncomingMessage) => {
        answered = true;
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) settle({ ok: true, status });
        else if (status >= 300 && status < 400) settle({ ok: false, status, error: `redirect (HTTP ${status}) not followed` });
        else settle({ ok: false, status, error: `HTTP ${status}` });
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > maxResponseBytes) res.destroy();
        });
        res.on("error", () => undefined);
        res.on("close", () => clearTimeout(timer));
      });
      req.on("error", (err: NodeJS.ErrnoException) => {
        if (answered) return;
        clearTimeout(timer);
        if (timedOut) return;
        const stale = pooled && req.reusedSocket && (err.code === "ECONNRESET" || err.code === "EPIPE");
        settle({ ok: false, status: null, error: describeError(err) }, stale);
      });
      req.end(body);
    });

  return {
    send,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

function withoutPrefix(message: string): string {
  return message.replace(/^url: /, "");
}

/** A short, secret-free reason for a failed connection, as `webhook.deliveries` shows it. */
function describeError(err: NodeJS.ErrnoException): string {
  if (err instanceof AppError) return withoutPrefix(err.message);
  switch (err.code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
    case "EPIPE":
      return "connection closed before an answer";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `name resolution failed (${err.code})`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    case "HPE_INVALID_CONSTANT":
    case "HPE_INVALID_STATUS":
    case "HPE_INVALID_HEADER_TOKEN":
      return "not an HTTP answer";
    default:
      return err.code ? `${err.code}: ${err.message}` : err.message;
  }
}
