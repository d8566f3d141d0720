// A gateway with two workers behind a scripted control plane: it gets its certificate, starts the workers
// with the config, ACKs a new config only once every worker serves it, and its admin (unix socket)
// answers /ready and /stats for all workers together.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import type { CertificateAuthority } from "../../ca/authority.js";
import { issue } from "../../ca/issue.js";
import { testRoot } from "../../ca/test-support.js";
import { eventually, freePort } from "../../testing/proxy-harness.js";
import { meshDiscoveryService } from "../../xds-protocol/service.js";
import { runXdsMode } from "../xds-mode.js";
import { gatewayConfig, getExample } from "./test-support.js";

const MAIN = fileURLToPath(new URL("../main.js", import.meta.url));

type Stream = grpc.ServerDuplexStream<unknown, unknown>;

/** A control plane that streams what the test sends, records ACKs/NACKs, and signs every CSR. */
class ControlPlane {
  server = new grpc.Server();
  streams: Stream[] = [];
  received: unknown[] = [];
  constructor(ca: CertificateAuthority) {
    this.server.addService(meshDiscoveryService, {
      StreamConfig: (call: Stream) => {
        this.streams.push(call);
        call.on("data", (m: unknown) => this.received.push(m));
        call.on("end", () => call.end());
        call.on("error", () => undefined);
      },
      Certificate: (
        call: grpc.ServerUnaryCall<{ csrPem: string }, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        const id = { trustDomain: ca.trustDomain, namespace: "istio-system", serviceAccount: "gw" };
        issue(ca, call.request.csrPem, id, new Date()).then(
          (leaf) => cb(null, { chainPem: leaf + ca.chainPem, rootsPem: ca.rootsPem }),
          (err: Error) => cb({ code: grpc.status.INTERNAL, details: err.message }),
        );
      },
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
  acked(version: string): boolean {
    return this.received.some(
      (m) =>
        (m as { type?: string; version?: string }).type === "ack" &&
        (m as { version?: string }).version === version,
    );
  }
}

function admin(socketPath: string, path: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) =>
    http
      .get({ socketPath, path }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ code: res.statusCode ?? 0, body }));
      })
      .on("error", reject),
  );
}

describe("a gateway with two workers on the config stream", () => {
  let dir: string;
  let cp: ControlPlane;
  let app: http.Server;
  let appPort = 0;
  let port = 0;
  let running: { close(): Promise<void> } | undefined;
  let adminSocket: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "shoal-gw-workers-"));
    app = http.createServer((_req, res) => res.end("ok"));
    app.listen(0, "127.0.0.1");
    await once(app, "listening");
    appPort = (app.address() as AddressInfo).port;
    cp = new ControlPlane(await testRoot());
    const target = `unix:${join(dir, "cp.sock")}`;
    await cp.listen(target);
    writeFileSync(join(dir, "token"), "t0ken\n");
    adminSocket = join(dir, "admin.sock");
    port = await freePort();
    const starting = runXdsMode({
      xds: target,
      tokenFile: join(dir, "token"),
      podName: "gw",
      podNamespace: "istio-system",
      podIp: "127.0.0.1",
      gateway: true,
      workers: 2,
      workerExec: MAIN,
      host: "127.0.0.1",
      gatewayBindPorts: { "8080": port },
      adminSocket,
      healthPort: 0,
      ports: { admin: null, prometheus: null },
    });
    await eventually("the config stream", () => cp.streams.length > 0, 15_000);
    cp.send({ type: "config", version: "v1", config: gatewayConfig("v1", appPort, true) });
    running = await starting;
  });

  after(async () => {
    await running?.close();
    cp?.server.forceShutdown();
    app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the first config on every worker and says ready", async () => {
    assert.ok(cp.acked("v1"));
    assert.equal((await admin(adminSocket, "/ready")).code, 200);
    const codes = await Promise.all(Array.from({ length: 10 }, () => getExample(port)));
    assert.deepEqual(new Set(codes), new Set([200]));
    const dump = JSON.parse((await admin(adminSocket, "/config_dump")).body) as { version: string };
    assert.equal(dump.version, "v1");
  });

  it("ACKs a new config only once every worker runs it", async () => {
    cp.send({ type: "config", version: "v2", config: gatewayConfig("v2", appPort, false) });
    await eventually("ack v2", () => cp.acked("v2"), 15_000);
    // Whichever worker the kernel hands each connection to, it already runs v2.
    const codes = await Promise.all(Array.from({ length: 20 }, () => getExample(port)));
    assert.deepEqual(new Set(codes), new Set([404]));
  });

  it("answers /stats with the sum over both workers", async () => {
    const stats = JSON.parse((await admin(adminSocket, "/stats?format=json")).body) as {
      counters: Record<string, { opened: number }>;
    };
    assert.equal(stats.counters["0.0.0.0_8080"]?.opened, 30);
    const prom = (await admin(adminSocket, "/stats/prometheus")).body;
    const count = (code: string) =>
      [
        ...prom.matchAll(
          new RegExp(`^istio_requests_total\\{[^}]*response_code="${code}"[^}]*\\} (\\d+)$`, "gm"),
        ),
      ]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
    // The ten routed requests (the unrouted ones carry no destination and are not in Istio's metrics).
    assert.equal(count("200"), 10);
  });
});
