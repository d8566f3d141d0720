// The identity client: rotation under live connections, on-demand renewal, retries, timers.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { generateTokenSigningKey, mintBootstrapToken } from "./bootstrap-token.js";
import { createCaService } from "./ca-service.js";
import type { CertificateResponse } from "./ca-service.js";
import { IdentityClient, realScheduler } from "./identity-client.js";
import type { Scheduler } from "./identity-client.js";
import { followRotations, mtlsClientOptions, mtlsServerOptions } from "./mtls-options.js";
import { connectAndEcho, echoOn, startMtlsServer, testRoot } from "./test-support.js";

const mesh = await testRoot();
const cp = generateTokenSigningKey();

/** Timers the test fires by hand: rotation is tested without waiting for it. */
class ManualScheduler implements Scheduler {
  pending = new Map<number, { fn: () => void; ms: number }>();
  #next = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    this.pending.set(++this.#next, { fn, ms });
    return this.#next;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** The one pending timer; `fire` runs it as the clock reaching it would. */
  only(): { ms: number; fire: () => void } {
    assert.equal(this.pending.size, 1, "exactly one timer pending");
    const [handle, t] = [...this.pending.entries()][0] as [number, { fn: () => void; ms: number }];
    return {
      ms: t.ms,
      fire: () => {
        this.pending.delete(handle);
        t.fn();
      },
    };
  }
}

function clientFor(
  namespace: string,
  serviceAccount: string,
  o: {
    lifetimeMs?: number;
    scheduler?: Scheduler;
    transport?: (csr: string, t: string) => Promise<CertificateResponse>;
  } = {},
): IdentityClient {
  const service = createCaService({
    authority: mesh,
    tokenKeys: [cp.publicKey],
    leafLifetimeMs: o.lifetimeMs,
  });
  return new IdentityClient({
    requestCertificate: o.transport ?? ((csr, token) => service.sign(csr, token)),
    token: () =>
      mintBootstrapToken({
        signingKey: cp.privateKey,
        namespace,
        serviceAccount,
        pod: `${serviceAccount}-0`,
        now: new Date(),
      }),
    expectedSpiffeId: `spiffe://cluster.local/ns/${namespace}/sa/${serviceAccount}`,
    scheduler: o.scheduler ?? new ManualScheduler(),
  });
}

test("rotation: open connections survive renewal, new ones get the new certificate", async () => {
  const serverTimers = new ManualScheduler();
  const serverIdentity = clientFor("foo", "httpbin", { lifetimeMs: 10_000, scheduler: serverTimers });
  const clientIdentity = clientFor("bar", "curl");
  const first = await serverIdentity.start();
  await clientIdentity.start();
  const renewal = serverTimers.only();
  assert.ok(renewal.ms > 4_000 && renewal.ms <= 5_000, `renews at half the lifetime, got ${renewal.ms} ms`);

  const contexts = new Set([serverIdentity.secureContext]);
  assert.equal(
    serverIdentity.secureContext,
    first.secureContext,
    "the getter returns the one context, not a new one",
  );
  const s = await startMtlsServer(mtlsServerOptions(serverIdentity));
  const unfollow = followRotations(s.server, serverIdentity);
  const connect = (keepOpen = false) =>
    connectAndEcho(
      s.port,
      mtlsClientOptions(clientIdentity, ["spiffe://cluster.local/ns/foo/sa/httpbin"]),
      keepOpen,
    );
  try {
    const longLived = await connect(true);
    assert.equal(longLived.ok, true);
    assert.equal(longLived.serverSerial, first.serialNumber);

    const rotated = new Promise((resolve) => serverIdentity.once("rotated", resolve));
    renewal.fire();
    await rotated;
    const second = serverIdentity.current!;
    assert.notEqual(second.serialNumber, first.serialNumber);
    assert.notEqual(second.keyPem, first.keyPem, "a fresh key per certificate");
    contexts.add(serverIdentity.secureContext);
    assert.equal(contexts.size, 2);
    assert.equal(serverTimers.pending.size, 1, "the next renewal is scheduled");

    const fresh = await connect();
    assert.equal(fresh.ok, true);
    assert.equal(fresh.serverSerial, second.serialNumber, "new handshakes present the new certificate");
    assert.equal(await echoOn(longLived.socket!, "still there\n"), true, "the old connection stays up");
    assert.equal(longLived.socket!.getPeerCertificate().serialNumber, first.serialNumber);
    assert.deepEqual(s.view.accepted, [
      "spiffe://cluster.local/ns/bar/sa/curl",
      "spiffe://cluster.local/ns/bar/sa/curl",
    ]);
    longLived.socket!.end();
  } finally {
    unfollow();
    s.server.close();
    serverIdentity.stop();
    assert.equal(serverTimers.pending.size, 0, "stop cancels the timer");
  }
});

test("renew on demand coalesces concurrent calls", async () => {
  let calls = 0;
  const service = createCaService({ authority: mesh, tokenKeys: [cp.publicKey] });
  const c = clientFor("foo", "curl", {
    transport: (csr, token) => {
      calls++;
      return service.sign(csr, token);
    },
  });
  const [a, b] = await Promise.all([c.renew(), c.renew()]);
  assert.equal(a, b);
  assert.equal(calls, 1);
  c.stop();
});

test("a failed renewal keeps the current certificate and retries with backoff", async () => {
  const timers = new ManualScheduler();
  let fail = false;
  const service = createCaService({ authority: mesh, tokenKeys: [cp.publicKey] });
  const c = clientFor("foo", "curl", {
    scheduler: timers,
    transport: (csr, token) =>
      fail ? Promise.reject(new Error("CA unreachable")) : service.sign(csr, token),
  });
  const first = await c.start();
  fail = true;
  const failures: number[] = [];
  c.on("renewFailed", (_err, retryInMs) => failures.push(retryInMs));
  await assert.rejects(c.renew(), /CA unreachable/);
  await assert.rejects(c.renew(), /CA unreachable/);
  assert.deepEqual(failures, [1000, 2000]);
  assert.equal(timers.only().ms, 2000);
  assert.equal(c.current, first);
  fail = false;
  const next = await c.renew();
  assert.notEqual(next.serialNumber, first.serialNumber);
  c.stop();
});

test("a certificate for an unexpected identity is not accepted; no certificate means not ready", async () => {
  const service = createCaService({ authority: mesh, tokenKeys: [cp.publicKey] });
  const c = new IdentityClient({
    requestCertificate: (csr, token) => service.sign(csr, token),
    token: mintBootstrapToken({
      signingKey: cp.privateKey,
      namespace: "foo",
      serviceAccount: "other",
      pod: "p",
      now: new Date(),
    }),
    expectedSpiffeId: "spiffe://cluster.local/ns/foo/sa/curl",
    scheduler: new ManualScheduler(),
  });
  await assert.rejects(
    c.start(),
    (e) => isShoalError(e, "IDENTITY_BAD_RESPONSE") && /ns\/foo\/sa\/other/.test(e.message),
  );
  assert.throws(
    () => c.secureContext,
    (e) => isShoalError(e, "IDENTITY_NOT_READY"),
  );
});

test("real renewal timers do not keep the process alive and can be cancelled", () => {
  let fired = false;
  const handle = realScheduler.setTimeout(() => (fired = true), 60_000) as NodeJS.Timeout;
  assert.equal(handle.hasRef(), false);
  realScheduler.clearTimeout(handle);
  assert.equal(fired, false);
});
