// A try over HTTP/1.1: a request on the endpoint's keep-alive agent (http-upstream.ts). A pooled
// connection the upstream closed just as it was reused is not a failure of the endpoint: a request that
// sent no body and got no answer is sent once more on a fresh connection (what Node and Envoy both do).
import http from "node:http";
import type { ClientRequest, IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { EndpointAgent } from "../http-upstream.js";
import { ConnectError } from "../http-upstream.js";
import type { Attempt, AttemptEvents } from "./attempt.js";
import { IDEMPOTENT } from "./attempt.js";

const OWNER = Symbol("attempt");
type Owned<T> = T & { [OWNER]: H1Attempt };

export class H1Attempt implements Attempt {
  upstreamLocal: string | undefined;
  tag: { release(): void } | undefined;
  #req: ClientRequest | undefined;
  /** Body written while waiting for a connection slot (maxConnections). */
  #queue: Buffer[] | undefined;
  #slot = false;
  #res: IncomingMessage | undefined;
  #written = 0;
  #ended = false;
  #cancelled = false;
  #again = false;

  constructor(
    private readonly agent: EndpointAgent,
    private readonly method: string,
    private readonly path: string,
    private readonly headers: readonly string[],
    private readonly ev: AttemptEvents,
  ) {
    if (agent.limit === Infinity) this.#open();
    else agent.slot(() => this.#start());
  }

  /** A connection slot is free: open the request and send what was queued meanwhile. */
  #start(): void {
    this.#slot = true;
    if (this.#cancelled) return this.free();
    this.#open();
    const r = this.#req as ClientRequest;
    // Node emits the request's `close` just before its socket's `free`: the slot is given back after
    // that, so the next request finds the socket back in the pool (or closed, after
    // maxRequestsPerConnection) instead of opening a second connection.
    r.once("close", () => process.nextTick(freeSlot, this));
    const queued = this.#queue;
    this.#queue = undefined;
    if (queued) for (const c of queued) r.write(c);
    if (this.#ended) r.end();
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.();
  }

  #drain: (() => void) | undefined;

  /** Gives the connection slot back (once). */
  free(): void {
    if (!this.#slot) return;
    this.#slot = false;
    this.agent.done();
  }

  #open(): void {
    const r = http.request({
      agent: this.agent,
      method: this.method,
      path: this.path,
      headers: this.headers as string[],
      setHost: false,
    }) as Owned<ClientRequest>;
    r[OWNER] = this;
    r.once("socket", onSocket);
    r.on("error", onRequestError);
    r.on("response", onResponse);
    this.#req = r;
  }

  write(chunk: Buffer): boolean {
    this.#written += chunk.length;
    if (this.#req) return this.#req.write(chunk);
    (this.#queue ??= []).push(chunk);
    return false;
  }

  onDrain(cb: () => void): void {
    if (this.#req) this.#req.once("drain", cb);
    else this.#drain = cb;
  }

  end(): void {
    this.#ended = true;
    this.#req?.end();
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const res = this.#res;
    // An answer already coming in is read to its end so the connection can go back to the pool.
    if (res && !res.complete) {
      res.removeAllListeners("data");
      res.removeAllListeners("end");
      res.resume();
    } else if (!res) this.#req?.destroy();
    this.#queue = undefined;
  }

  pause(): void {
    this.#res?.pause();
  }

  resume(): void {
    this.#res?.resume();
  }

  /** @internal */
  socket(s: Socket): void {
    if (s.localPort) this.upstreamLocal = `${s.localAddress}:${s.localPort}`;
    else s.once("connect", () => (this.upstreamLocal = `${s.localAddress}:${s.localPort}`));
  }

  /** @internal */
  error(err: Error): void {
    if (this.#cancelled) return;
    const r = this.#req as ClientRequest;
    if (err instanceof ConnectError) return this.ev.onFailure(this, "connect", err.failure.reason);
    if (
      !this.#res &&
      r.reusedSocket &&
      !this.#again &&
      this.#ended &&
      this.#written === 0 &&
      IDEMPOTENT.has(this.method)
    ) {
      this.#again = true;
      this.#open();
      const again = this.#req as ClientRequest;
      if (this.#slot) again.once("close", () => process.nextTick(freeSlot, this));
      again.end();
      return;
    }
    if (this.#res) return; // the response's own `aborted` reports it
    this.ev.onFailure(this, "reset", (err as NodeJS.ErrnoException).code);
  }

  /** @internal */
  response(res: IncomingMessage): void {
    if (this.#cancelled) return void res.resume();
    this.#res = res;
    (res as Owned<IncomingMessage>)[OWNER] = this;
    res.on("error", noop);
    res.once("aborted", onAborted);
    this.ev.onResponse(this, res.statusCode ?? 502, res.headers, res.rawHeaders, false);
    if (this.#cancelled) return;
    res.on("data", onData);
    res.once("end", onEnd);
  }

  /** @internal */
  data(chunk: Buffer): void {
    if (!this.#cancelled) this.ev.onData(this, chunk);
  }

  /** @internal */
  finished(): void {
    if (!this.#cancelled) this.ev.onEnd(this, undefined);
  }

  /** @internal */
  aborted(): void {
    if (!this.#cancelled) this.ev.onFailure(this, "reset", "aborted");
  }
}

function noop(): void {}
function onSocket(this: Owned<ClientRequest>, s: Socket): void {
  this[OWNER].socket(s);
}
function onRequestError(this: Owned<ClientRequest>, err: Error): void {
  this[OWNER].error(err);
}
function onResponse(this: Owned<ClientRequest>, res: IncomingMessage): void {
  this[OWNER].response(res);
}
function onData(this: Owned<IncomingMessage>, chunk: Buffer): void {
  this[OWNER].data(chunk);
}
function onEnd(this: Owned<IncomingMessage>): void {
  this[OWNER].finished();
}
function onAborted(this: Owned<IncomingMessage>): void {
  this[OWNER].aborted();
}

function freeSlot(a: { free(): void }): void {
  a.free();
}
