// Fuzz target 3: ProxyConfig messages pushed to a sidecar over its config stream (the proxy's own
// XdsClient, applying to the live proxy as a pod's sidecar does). A good config (an inbound HTTP port
// with a DENY policy on /deny) is pushed first; then mutated configs and mutated messages. Each must be
// ACKed or NACKed with a reason within 2 s; after a NACK the last good config keeps serving (a request
// is still decided by it: /ok 200, /deny 403); the proxy process never dies.
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { meshDiscoveryService } from "../../src/xds-protocol/service.js";
import { inboundChain, testConfig } from "../../src/testing/proxy-harness.js";
import type { Finding, TargetResult } from "./report.js";
import { inputRand, mutateValue } from "./mutate.js";
import { startProxyProcess } from "./proxy-process.js";
import type { ProxyProcess } from "./proxy-process.js";

const ANSWER_MS = 2000;
const CHECK_EVERY = 25;

type Stream = grpc.ServerDuplexStream<unknown, unknown>;
interface Reply {
  type: string;
  version?: string;
  errors?: unknown;
}

/** A control plane that pushes what it is told and hands back the proxy's ACK or NACK. */
class ScriptedControlPlane {
  readonly server = new grpc.Server();
  stream: Stream | undefined;
  /** Pushed again to every new stream (what a real control plane does on reconnect). */
  current: { type: "config"; version: string; config: unknown } | undefined;
  waiters: Array<(r: Reply) => void> = [];
  streams = 0;

  constructor() {
    this.server.addService(meshDiscoveryService, {
      StreamConfig: (call: Stream) => {
        this.stream = call;
        this.streams++;
        call.on("data", (m: Reply) => {
          if (m?.type === "hello") {
            if (this.current) call.write(this.current);
            return;
          }
          for (const w of this.waiters.splice(0)) w(m);
        });
        call.on("end", () => call.end());
        call.on("error", () => undefined);
      },
      Certificate: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.UNIMPLEMENTED }),
    });
  }

  listen(target: string): Promise<void> {
    return new Promise((res, rej) =>
      this.server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())),
    );
  }

  /** Pushes `message` and waits for the proxy's answer to it (undefined after ANSWER_MS). */
  async push(message: unknown, version: string): Promise<Reply | undefined> {
    const deadline = Date.now() + ANSWER_MS;
    while (!this.stream && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!this.stream) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), Math.max(1, deadline - Date.now()));
      const wait = (r: Reply) => {
        if (r.version !== version && version !== "*") return void this.waiters.push(wait);
        clearTimeout(timer);
        resolve(r);
      };
      this.waiters.push(wait);
      try {
        this.stream!.write(message);
      } catch {
        // Not even a message on the wire (null): nothing reaches the proxy.
        clearTimeout(timer);
        this.waiters.splice(this.waiters.indexOf(wait), 1);
        resolve({ type: "unsendable" });
      }
    });
  }
}

function goodConfig(version: string, appPort: number): unknown {
  return testConfig({
    version,
    namespace: "default",
    chains: [inboundChain(appPort, "PERMISSIVE", "http")],
    policies: [
      {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: { name: "deny-path", namespace: "default" },
        spec: { action: "DENY", rules: [{ to: [{ operation: { paths: ["/deny"] } }] }] },
      },
    ],
  });
}

function status(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    let data = "";
    const s = net.connect({ host: "127.0.0.1", port });
    const timer = setTimeout(() => (s.destroy(), resolve("no answer")), ANSWER_MS);
    s.on("error", (e) => (clearTimeout(timer), resolve(e.message)));
    s.on("data", (d: Buffer) => {
      data += d.toString("latin1");
      if (data.includes("\r\n")) {
        clearTimeout(timer);
        s.destroy();
        resolve(data.split("\r\n")[0]!.split(" ")[1] ?? data);
      }
    });
    s.write(`GET ${path} HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n`);
  });
}

export async function fuzzConfig(seed: number, seconds: number): Promise<TargetResult> {
  const dir = mkdtempSync(join(tmpdir(), "shoal-fuzz-cp-"));
  const target = `unix:${join(dir, "cp.sock")}`;
  const cp = new ScriptedControlPlane();
  await cp.listen(target);
  const findings: Finding[] = [];
  let host: ProxyProcess = await startProxyProcess(target);
  const counts = { acked: 0, nacked: 0, checks: 0 };
  let inputs = 0;
  let unsendable = 0;
  let good = 0;
  const base = (appPort: number) => goodConfig("base", appPort) as Record<string, unknown>;
  /** Pushes a fresh version of the good config; true once the proxy ACKed it. */
  const pushGood = async (): Promise<boolean> => {
    const version = `good-${good++}`;
    const message = { type: "config", version, config: { ...base(host.ports.appPort), version } };
    cp.current = message as typeof cp.current;
    const r = await cp.push(message, version);
    return r?.type === "ack";
  };
  /** The last good config decides: /ok reaches the app, /deny gets the DENY policy's 403. */
  const decides = async (): Promise<string | undefined> => {
    counts.checks++;
    const ok = await status(host.ports.xds!, "/ok");
    const deny = await status(host.ports.xds!, "/deny");
    return ok === "200" && deny === "403" ? undefined : `/ok answered ${ok}, /deny answered ${deny}`;
  };
  const messageOf = (index: number) => {
    const rand = inputRand(seed, index);
    const version = `m-${index}`;
    const config = mutateValue(rand, { ...base(host.ports.appPort), version });
    // Mostly the config; sometimes the message around it.
    const message =
      rand() < 0.15
        ? mutateValue(rand, { type: "config", version, config })
        : { type: "config", version, config };
    return { version, message };
  };
  try {
    if (!(await pushGood())) throw new Error("the proxy did not ACK the good config");
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      const index = inputs++;
      const { version, message } = messageOf(index);
      const input = () => JSON.stringify(message).slice(0, 200_000);
      const reply = await cp.push(
        message,
        (message as { version?: unknown })?.version === version ? version : "*",
      );
      const ended = host.ended();
      if (ended || !reply) {
        findings.push({
          kind: ended ? "crash" : "hang",
          index,
          message: ended ?? `no ACK or NACK in ${ANSWER_MS} ms`,
          input: input(),
        });
        await host.stop();
        host = await startProxyProcess(target);
        if (!(await pushGood())) break;
        continue;
      }
      if (reply.type === "unsendable") {
        unsendable++;
        continue;
      }
      if (reply.type === "nack") {
        counts.nacked++;
        const errors = reply.errors;
        if (
          !Array.isArray(errors) ||
          errors.length === 0 ||
          errors.some((e) => typeof e !== "string" || e === "")
        )
          findings.push({
            kind: "nack-without-reason",
            index,
            message: JSON.stringify(reply),
            input: input(),
          });
      } else {
        counts.acked++;
        // A mutation that is still a valid config runs now; put the good one back.
        if (!(await pushGood())) {
          findings.push({
            kind: "hang",
            index,
            message: "the good config was not ACKed after a valid mutation",
            input: input(),
          });
          break;
        }
      }
      if (index % CHECK_EVERY === 0 || reply.type === "ack") {
        const wrong = await decides();
        if (wrong) findings.push({ kind: "wrong-decision", index, message: wrong, input: input() });
      }
    }
    const wrong = await decides();
    if (wrong) findings.push({ kind: "wrong-decision", index: inputs, message: `at the end: ${wrong}` });
  } finally {
    await host.stop();
    cp.server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    target: "config",
    inputs: inputs - unsendable,
    findings,
    notes: [
      `${counts.nacked} NACKed, ${counts.acked} ACKed (valid mutations, then the good config pushed back)`,
      `${counts.checks} checks that the last good config decides (/ok 200, /deny 403)`,
      `${cp.streams} config streams`,
      `${unsendable} mutated messages could not be sent at all (null)`,
    ],
  };
}
