// Both ends of the tunnel in real proxies on loopback: a client sidecar whose endpoint has a tunnel port
// and a server sidecar listening for tunnels. Connections cross as CONNECT streams, are served by the
// server's TCP chain with the client's principal, and an authorization deny there reaches nothing.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { testRoot } from "../ca/test-support.js";
import {
  eventually,
  exchange,
  inboundChain,
  startApp,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";

const mesh = await testRoot();
const server = await testWorkload(mesh, "foo", "app");
const client = await testWorkload(mesh, "bar", "curl");
const app = await startApp("reply-on-end");
after(() => app.close());

const VIP = "10.96.0.10";
const CLUSTER = "outbound|9000||app.foo.svc.cluster.local";

async function pair(policies: unknown[] = []) {
  const sp = await startTestProxy(
    testConfig({ chains: [inboundChain(app.port, "STRICT")], policies }),
    server.identity,
  );
  after(() => sp.proxy.close());
  const endpoint = {
    address: "127.0.0.1",
    port: app.port,
    tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [server.spiffeId] },
    tunnel: { port: sp.proxy.ports.tunnel },
  };
  const config = testConfig({
    namespace: "bar",
    listeners: [{ name: `${VIP}_9000`, address: VIP, port: 9000, protocol: "tcp", cluster: CLUSTER }],
    clusters: [{ name: CLUSTER, type: "EDS", connectTimeoutMs: 2000, endpoints: [endpoint] }],
  });
  const cp = await startTestProxy(config, client.identity);
  cp.dst.current = { address: VIP, port: 9000, family: "IPv4" };
  after(() => cp.proxy.close());
  return { sp, cp };
}

test("connections cross the tunnel between two sidecars and are served with the client's principal", async () => {
  const { sp, cp } = await pair();
  const before = app.connections;
  const results = await Promise.all(
    Array.from({ length: 20 }, (_x, i) => exchange(cp.proxy.ports.outbound, `hi ${i}`)),
  );
  results.forEach((r, i) => assert.deepEqual(r, { data: `got hi ${i}`, ended: "end" }));
  assert.equal(app.connections, before + 20);
  await eventually("20 server log lines", () => sp.lines.length === 20);
  assert.equal(sp.proxy.stats.peers()[`inbound|${app.port}||.source_principal.${client.spiffeId}`], 20);
  for (const line of sp.lines)
    assert.match(
      line,
      new RegExp(` 0 - - - "-" [45] [89] \\d+ .*"127\\.0\\.0\\.1:${app.port}" inbound\\|${app.port}\\|\\| `),
    );
});

test("a deny on the server side: the client's connection ends with no data and the app sees nothing", async () => {
  const deny = {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "tcp-policy", namespace: "foo" },
    spec: {
      action: "DENY",
      rules: [{ from: [{ source: { principals: ["cluster.local/ns/bar/sa/curl"] } }] }],
    },
  };
  const { sp, cp } = await pair([deny]);
  const before = app.connections;
  const r = await exchange(cp.proxy.ports.outbound, "secret");
  assert.equal(r.data, "");
  assert.equal(app.connections, before);
  await eventually("the server's line", () => sp.lines.length === 1);
  assert.match(sp.lines[0] ?? "", /rbac_access_denied_matched_policy/);
  assert.equal(sp.proxy.stats.snapshot()[`inbound|${app.port}||`]?.denied, 1);
});
