import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { meshDiscoveryService } from "../xds-protocol/service.js";
import type { ProxyConfig } from "./proxy-config.js";
import { XdsClient } from "./xds-client.js";
import { emptyAuthz } from "./authz-config.js";

const node = { id: "sidecar~10.244.0.9~a.foo~foo.svc.cluster.local", podName: "a", namespace: "foo" };

function config(version: string, broken = false): ProxyConfig {
  return {
    version,
    node: {
      ...node,
      kind: "sidecar",
      workloadName: "a",
      labels: {},
      serviceAccount: "default",
      ip: "10.244.0.9",
    },
    mesh: { trustDomain: "cluster.local", rootNamespace: "istio-system", outboundTrafficPolicy: "ALLOW_ANY" },
    inbound: { chains: [], authz: emptyAuthz() },
    outbound: { listeners: [], defaultCluster: broken ? "BlackHoleCluster" : "PassthroughCluster" },
    clusters: [{ name: "PassthroughCluster", type: "ORIGINAL_DST", endpoints: [], connectTimeoutMs: 10_000 }],
  };
}

type Stream = grpc.ServerDuplexStream<unknown, unknown>;

/** A scripted control plane: records what each stream sent, lets the test write to the latest one. */
class FakeControlPlane {
  server = new grpc.Server();
  streams: Stream[] = [];
  received: unknown[][] = [];
  constructor() {
    this.server.addService(meshDiscoveryService, {
      StreamConfig: (call: Stream) => {
        const log: unknown[] = [];
        this.streams.push(call);
        this.received.push(log);
        call.on("data", (m: unknown) => log.push(m));
        call.on("end", () => call.end());
        call.on("error", () => undefined);
      },
      Certificate: (_call: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb({ code: grpc.status.UNIMPLEMENTED }),
    });
  }
  listen(target: string): Promise<void> {
    return new Promise((res, rej) =>
      this.server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())),
    );
  }
  send(m: unknown): void {
    this.streams.at(-1)!.write(m);
  }
  lastMessages(): unknown[] {
    return this.received.at(-1) ?? [];
  }
  stop(): void {
    this.server.forceShutdown();
  }
}

async function waitFor(what: string, pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function socketDir(): { target: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "shoal-xds-client-"));
  return {
    target: `unix:${join(dir, "cp.sock")}`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test("hello first; good configs are applied and ACKed, bad ones NACKed while the last good one stays", async () => {
  const sock = socketDir();
  const cp = new FakeControlPlane();
  await cp.listen(sock.target);
  const applied: string[] = [];
  const client = new XdsClient({
    target: sock.target,
    node,
    token: "tok",
    onConfig: (c) => {
      if (c.version === "v4") throw new Error("port 15001 is busy");
      applied.push(c.version);
    },
  });
  try {
    client.start();
    await waitFor("hello", () => cp.lastMessages().length === 1);
    assert.deepEqual(cp.lastMessages()[0], { type: "hello", token: "tok", node });

    cp.send({ type: "config", version: "v1", config: config("v1") });
    await waitFor("ack v1", () => cp.lastMessages().length === 2);
    assert.deepEqual(cp.lastMessages()[1], { type: "ack", version: "v1" });
    assert.equal(client.connected, true);

    cp.send({ type: "config", version: "v1", config: config("v1") }); // the running version: ACK, no re-apply
    await waitFor("ack v1 again", () => cp.lastMessages().length === 3);
    assert.deepEqual(cp.lastMessages()[2], { type: "ack", version: "v1" });
    assert.deepEqual(applied, ["v1"]);

    cp.send({ type: "config", version: "v2", config: config("v2", true) }); // parseProxyConfig fails
    cp.send({ type: "config", version: "v3", config: config("other") }); // envelope and config disagree
    cp.send({ type: "config", version: "v4", config: config("v4") }); // applying it fails
    cp.send({ type: "surprise" });
    await waitFor("four NACKs", () => cp.lastMessages().length === 7);
    const malformed = (cp.lastMessages()[6] as { errors: string[] }).errors[0]!;
    assert.deepEqual(cp.lastMessages().slice(3), [
      {
        type: "nack",
        version: "v2",
        errors: ['outbound.defaultCluster: cluster "BlackHoleCluster" is not defined'],
      },
      { type: "nack", version: "v3", errors: ["version: config says other, message says v3"] },
      { type: "nack", version: "v4", errors: ["applying the config failed: port 15001 is busy"] },
      { type: "nack", version: "", errors: [malformed] },
    ]);
    assert.match(malformed, /^malformed server message/);
    assert.deepEqual(applied, ["v1"]);
    assert.equal(client.config?.version, "v1");
    assert.equal(client.version, "v1");
    assert.equal(client.status.lastNack?.version, "");
  } finally {
    client.close();
    cp.stop();
    sock.cleanup();
  }
});

test("fail static: the last good config survives the control plane going away, and the client reconnects", async () => {
  const sock = socketDir();
  let cp = new FakeControlPlane();
  await cp.listen(sock.target);
  let tokens = 0;
  const client = new XdsClient({
    target: sock.target,
    node,
    token: () => `tok-${++tokens}`,
    initialConfig: config("from-disk"),
    backoff: { initialMs: 10, maxMs: 50 },
  });
  const disconnects: number[] = [];
  client.on("disconnected", (_e, retryInMs) => disconnects.push(retryInMs));
  try {
    assert.equal(client.config?.version, "from-disk", "runs on the saved config before any answer");
    client.start();
    await waitFor("hello", () => cp.lastMessages().length === 1);
    cp.send({ type: "config", version: "v1", config: config("v1") });
    await waitFor("v1", () => client.version === "v1");

    cp.stop();
    await waitFor("a few failed reconnects", () => disconnects.length >= 3);
    assert.equal(client.connected, false);
    assert.equal(client.config?.version, "v1", "kept while the control plane is away");
    assert.ok(
      disconnects.every((d) => d <= 60),
      `backoff stays under its max: ${disconnects.join(",")}`,
    );

    cp = new FakeControlPlane();
    await cp.listen(sock.target);
    await waitFor("hello again", () => cp.lastMessages().length === 1);
    assert.match((cp.lastMessages()[0] as { token: string }).token, /^tok-\d+$/);
    assert.notEqual(
      (cp.lastMessages()[0] as { token: string }).token,
      "tok-1",
      "a fresh token per connection",
    );
    cp.send({ type: "config", version: "v2", config: config("v2") });
    await waitFor("v2", () => client.version === "v2");
    assert.ok(client.status.connects >= 2);
  } finally {
    client.close();
    cp.stop();
    sock.cleanup();
  }
});

test("close stops reconnecting", async () => {
  const sock = socketDir();
  const client = new XdsClient({
    target: sock.target,
    node,
    token: "t",
    backoff: { initialMs: 5, maxMs: 5 },
  });
  let attempts = 0;
  client.on("disconnected", () => attempts++);
  client.start();
  await waitFor("a failed attempt", () => attempts >= 1);
  client.close();
  const after = attempts;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(attempts, after);
  assert.equal(client.status.lastError?.code, "XDS_UNAVAILABLE");
  sock.cleanup();
});
