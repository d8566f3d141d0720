// The passthrough chain's per-port mTLS modes (portLevelMtls on ports no Service declares): the original
// port's override decides before the chain's own mode, on the wire and in the pure lookup.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { testRoot } from "../ca/test-support.js";
import { mtlsModeFor } from "./inbound.js";
import { parseProxyConfig } from "./proxy-config.js";
import {
  exchange,
  inboundChain,
  startApp,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";

const passthrough = (mode: "STRICT" | "PERMISSIVE" | "DISABLE", portMtls: unknown[]) => ({
  ...inboundChain(null, mode),
  portMtls,
});

test("mtlsModeFor: an override names the original port; other ports keep the chain's mode", () => {
  const config = testConfig({
    chains: [passthrough("PERMISSIVE", [{ port: 9002, mode: "STRICT", policy: "foo/strict-9002" }])],
  });
  const parsed = parseProxyConfig(config);
  assert.ok(parsed.ok);
  const chain = parsed.config.inbound.chains.find((c) => c.port === null)!;
  assert.equal(mtlsModeFor(chain, 9002), "STRICT");
  assert.equal(mtlsModeFor(chain, 9003), "PERMISSIVE");
  // A declared port's chain never looks at portMtls (translate sets its mode directly).
  assert.equal(mtlsModeFor({ ...chain, port: 9002 }, 9002), "PERMISSIVE");
});

test("a STRICT override on an undeclared port closes plaintext; another port still passes", async () => {
  const mesh = await testRoot();
  const server = await testWorkload(mesh, "foo", "app");
  const app = await startApp("echo");
  after(() => app.close());
  const tp = await startTestProxy(
    testConfig({ chains: [passthrough("PERMISSIVE", [{ port: app.port, mode: "STRICT", policy: null }])] }),
    server.identity,
  );
  after(() => tp.proxy.close());
  tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  const before = app.connections;
  assert.equal(
    (await exchange(tp.proxy.ports.inbound, "x")).data,
    "",
    "plaintext refused on the STRICT port",
  );
  assert.equal(app.connections, before, "no connection reached the app");
  tp.proxy.updateConfig(
    testConfig({
      version: "v2",
      chains: [passthrough("PERMISSIVE", [{ port: app.port + 1, mode: "STRICT", policy: null }])],
    }),
  );
  assert.equal((await exchange(tp.proxy.ports.inbound, "y")).data, "y", "other ports keep PERMISSIVE");
});
