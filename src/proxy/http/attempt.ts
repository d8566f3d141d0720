// One try of a request at one upstream endpoint, the same shape for HTTP/1.1 (pooled keep-alive
// connections) and HTTP/2 (a shared session per endpoint). Writes made before the upstream stream exists
// are queued (write returns false until it is ready, then `onDrain` fires). Events go to one handler.
import type { IncomingHttpHeaders } from "node:http";

export type FailureKind = "connect" | "reset" | "refused";

export interface AttemptEvents {
  /** Response head; `end` = the response has no body (HTTP/2 END_STREAM on the headers). */
  onResponse(a: Attempt, status: number, head: IncomingHttpHeaders, raw: string[], end: boolean): void;
  onData(a: Attempt, chunk: Buffer): void;
  onEnd(a: Attempt, trailers: IncomingHttpHeaders | undefined): void;
  /** No answer (connect failure, reset, refused stream), or the response broke off midway. */
  onFailure(a: Attempt, kind: FailureKind, reason: string | undefined): void;
}

export interface Attempt {
  /** `ip:port` of the proxy's side of the upstream connection, once known. */
  readonly upstreamLocal: string | undefined;
  write(chunk: Buffer): boolean;
  onDrain(cb: () => void): void;
  end(): void;
  /** Abandons the try (no more events). */
  cancel(): void;
  pause(): void;
  resume(): void;
  /** Whatever the caller wants to keep with the try (a mirror's admission). */
  tag?: { release(): void } | undefined;
}

/** Methods safe to send twice (RFC 9110 §9.2.2). */
export const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "DELETE", "PUT", "TRACE"]);
