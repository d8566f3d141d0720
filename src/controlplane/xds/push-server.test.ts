import assert from "node:assert/strict";
import { test } from "node:test";
import { isShoalError } from "../../api/errors.js";
import { generateTokenSigningKey } from "../../ca/bootstrap-token.js";
import { createCaService } from "../../ca/ca-service.js";
import { testRoot } from "../../ca/test-support.js";
import type { XdsClient } from "../../proxy/xds-client.js";
import { createMeshDiscoveryClient } from "../../xds-protocol/service.js";
import { harness, helloNode, sleep, tokenFor, tokenKeys, waitFor } from "./test-support.js";
import type { Harness } from "./test-support.js";

const ca0 = await testRoot();
const ca = createCaService({ authority: ca0, tokenKeys: [tokenKeys.publicKey] });

/** Counts the configs each client applied. */
function counter(clients: XdsClient[]): number[] {
  const counts = clients.map(() => 0);
  clients.forEach((c, i) => c.on("config", () => counts[i]!++));
  return counts;
}

const synced = (h: Harness, n: number) => () =>
  h.server.status().filter((r) => r.state === "SYNCED").length === n;

test("a hello with a bad, expired or someone else's token is refused", async () => {
  const h = await harness(ca);
  const rejected: string[] = [];
  h.server.on("rejected", (e) => rejected.push(e.code));
  try {
    const other = generateTokenSigningKey();
    const forged = h.connect("a", { token: tokenFor("foo", "a", { signingKey: other.privateKey }) });
    const expired = h.connect("b", {
      token: tokenFor("foo", "b", { now: new Date(Date.now() - 7200_000), ttlSeconds: 60 }),
    });
    const stolen = h.connect("c", { token: tokenFor("foo", "someone-else") });
    await waitFor("three refusals", () => [forged, expired, stolen].every((c) => c.status.lastError));
    assert.equal(forged.status.lastError?.code, "CA_TOKEN_BAD_SIGNATURE");
    assert.equal(expired.status.lastError?.code, "CA_TOKEN_EXPIRED");
    assert.equal(stolen.status.lastError?.code, "XDS_NODE_MISMATCH");
    assert.match(stolen.status.lastError?.message ?? "", /token is for pod foo\/someone-else/);
    for (const c of [forged, expired, stolen]) assert.equal(c.config, undefined);
    assert.deepEqual(h.server.status(), [], "no refused proxy is tracked");
    assert.ok(rejected.includes("CA_TOKEN_EXPIRED") && rejected.includes("XDS_NODE_MISMATCH"));
  } finally {
    await h.close();
  }
});

test("a proxy gets its config, ACKs it, and status shows it synced", async () => {
  const h = await harness(ca);
  try {
    const c = h.connect("httpbin");
    await waitFor("synced", synced(h, 1));
    assert.equal(c.config?.version, "httpbin@1");
    assert.equal(c.version, "httpbin@1");
    assert.equal(c.connected, true);
    const [row] = h.server.status();
    assert.equal(row?.podName, "httpbin");
    assert.equal(row?.serviceAccount, "default", "taken from the token");
    assert.equal(row?.versionSent, "httpbin@1");
    assert.equal(row?.versionAcked, "httpbin@1");
    assert.equal(row?.connected, true);
    assert.ok(row?.lastPushLatencyMs !== undefined && row.lastPushLatencyMs >= 0);
  } finally {
    await h.close();
  }
});

test("a change affecting 2 of 3 proxies pushes to exactly those 2, and both ACK", async () => {
  const h = await harness(ca);
  try {
    const clients = ["a", "b", "c"].map((p) => h.connect(p));
    await waitFor("three synced", synced(h, 3));
    const counts = counter(clients);
    const pushed: string[] = [];
    h.server.on("pushed", (n) => pushed.push(n.podName));
    h.mesh.bump("a", "b");
    // The daemon names the affected nodes; "all" would do the same (c's version did not change).
    h.server.notifyChanged(["a", "b"].map((p) => helloNode("foo", p).id));
    await waitFor("a and b at @2", () => clients[0]!.version === "a@2" && clients[1]!.version === "b@2");
    await waitFor("three synced again", synced(h, 3));
    h.server.notifyChanged("all"); // recomputes all three: nothing differs, nothing is sent
    await sleep(50);
    assert.deepEqual(pushed.sort(), ["a", "b"]);
    assert.deepEqual(counts, [1, 1, 0]);
    assert.equal(clients[2]!.version, "c@1");
    assert.deepEqual(
      h.server.status().map((r) => [r.podName, r.versionAcked, r.state]),
      [
        ["a", "a@2", "SYNCED"],
        ["b", "b@2", "SYNCED"],
        ["c", "c@1", "SYNCED"],
      ],
    );
  } finally {
    await h.close();
  }
});

test("a burst of 50 changes in one tick is one push per proxy", async () => {
  const h = await harness(ca, { debounceMs: 10 });
  try {
    const clients = ["a", "b", "c"].map((p) => h.connect(p));
    await waitFor("three synced", synced(h, 3));
    const counts = counter(clients);
    let pushes = 0;
    h.server.on("pushed", () => pushes++);
    // Synchronous: no timer can fire inside the loop, so the whole burst falls in one debounce window.
    for (let i = 0; i < 50; i++) {
      h.mesh.bump("a", "b", "c");
      h.server.notifyChanged(i % 2 ? "all" : [helloNode("foo", "a").id]);
    }
    await waitFor("all at @51", () => clients.every((c, i) => c.version === `${"abc"[i]}@51`));
    await sleep(50);
    assert.equal(pushes, 3);
    assert.deepEqual(counts, [1, 1, 1]);
  } finally {
    await h.close();
  }
});

test("a bad config is NACKed, shows in status with its errors, and the proxy keeps the last good one", async () => {
  const h = await harness(ca);
  try {
    const c = h.connect("a");
    await waitFor("synced", synced(h, 1));
    const nacks: string[] = [];
    h.server.on("nacked", (_n, v) => nacks.push(v));
    h.mesh.broken.add("a");
    h.mesh.bump("a");
    h.server.notifyChanged();
    await waitFor("a NACK", () => nacks.length === 1);
    const [row] = h.server.status();
    assert.equal(row?.state, "NACK");
    assert.equal(row?.versionSent, "a@2");
    assert.equal(row?.versionAcked, "a@1");
    assert.deepEqual(row?.lastNack?.errors, [
      'outbound.defaultCluster: cluster "BlackHoleCluster" is not defined',
    ]);
    assert.equal(c.config?.version, "a@1", "the last good config stays in force");
    assert.equal(c.status.lastNack?.version, "a@2");

    h.mesh.broken.delete("a");
    h.mesh.bump("a");
    h.server.notifyChanged();
    await waitFor("synced at @3", () => c.version === "a@3" && h.server.status()[0]?.state === "SYNCED");
  } finally {
    await h.close();
  }
});

test("when the server restarts the proxy keeps its config, reconnects and re-syncs", async () => {
  const h = await harness(ca);
  try {
    const c = h.connect("a");
    await waitFor("synced", synced(h, 1));
    const first = c.config;
    await h.server.close();
    await waitFor("disconnected", () => !c.connected);
    assert.equal(isShoalError(c.status.lastError, "XDS_SHUTTING_DOWN"), true, String(c.status.lastError));
    await sleep(150); // a few failed reconnects while nothing listens
    assert.equal(c.config, first, "fail static: the config stays while the control plane is away");
    h.mesh.bump("a");
    await h.restart();
    await waitFor("re-synced", () => c.version === "a@2" && synced(h, 1)());
    assert.ok(c.status.connects >= 2);
    assert.equal(h.server.status()[0]?.connected, true);
  } finally {
    await h.close();
  }
});

test("a proxy that disconnects shows as disconnected; a second stream for a node replaces the first", async () => {
  const h = await harness(ca);
  try {
    const c1 = h.connect("a");
    await waitFor("synced", synced(h, 1));
    c1.close();
    await waitFor("disconnected row", () => h.server.status()[0]?.state === "DISCONNECTED");
    const c2 = h.connect("a");
    await waitFor("synced again", synced(h, 1));
    const c3 = h.connect("a");
    await waitFor("c2 replaced", () => c2.status.lastError?.code === "XDS_REPLACED");
    c2.close();
    await waitFor("c3 synced", () => c3.version === "a@1" && synced(h, 1)());
    assert.equal(h.server.status().length, 1);
  } finally {
    await h.close();
  }
});

test("one config in flight per proxy: a proxy that does not answer gets only the newest one when it does", async () => {
  const h = await harness(ca);
  const channel = createMeshDiscoveryClient(h.target);
  const call = channel.StreamConfig();
  call.on("error", () => undefined);
  try {
    const versions: string[] = [];
    let answer = false;
    call.on("data", (m: { version: string }) => {
      versions.push(m.version);
      if (answer) call.write({ type: "ack", version: m.version });
    });
    call.write({ type: "hello", token: tokenFor("foo", "slow"), node: helloNode("foo", "slow") });
    await waitFor("the first config", () => versions.length === 1);
    for (let i = 0; i < 100; i++) {
      h.mesh.bump("slow");
      h.server.notifyChanged();
      h.server.flush();
      await sleep(1);
    }
    assert.deepEqual(versions, ["slow@1"], "nothing more is sent while slow@1 is unanswered");
    assert.equal(h.server.status()[0]?.state, "STALE");
    answer = true;
    call.write({ type: "ack", version: "slow@1" });
    await waitFor("synced", synced(h, 1));
    assert.deepEqual(versions, ["slow@1", "slow@101"]);
  } finally {
    call.cancel();
    channel.close();
    await h.close();
  }
});

test("a change to all of 40 proxies reaches every one of them (pushed in slices)", async () => {
  const h = await harness(ca);
  try {
    const pods = Array.from({ length: 40 }, (_, i) => `p${i}`);
    const clients = pods.map((p) => h.connect(p));
    await waitFor("40 synced", synced(h, 40));
    h.mesh.bump(...pods);
    h.server.notifyChanged();
    await waitFor("40 at @2", () => clients.every((c, i) => c.version === `p${i}@2`));
    await waitFor("40 synced again", synced(h, 40));
  } finally {
    await h.close();
  }
});

test("settle pushes a pending change at once and resolves when every proxy has answered it", async () => {
  // A long debounce: settle must not wait for it.
  const h = await harness(ca, { debounceMs: 2000, maxDelayMs: 10_000 });
  try {
    const a = h.connect("a");
    const b = h.connect("b");
    await waitFor("synced", synced(h, 2));
    h.mesh.bump("a", "b");
    h.mesh.broken.add("b");
    h.server.notifyChanged("all");
    assert.deepEqual(await h.server.settle(5000), [], "nobody is left behind");
    assert.equal(a.version, "a@2", "the ACK of the new config arrived before settle resolved");
    const rowB = h.server.status().find((r) => r.podName === "b");
    assert.equal(rowB?.lastNack?.version, "b@2", "a NACK is an answer too: b keeps its last good config");
    assert.equal(b.version, "b@1");
  } finally {
    await h.close();
  }
});
