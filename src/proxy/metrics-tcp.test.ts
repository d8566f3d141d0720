// istio_tcp_* on an inbound TCP chain: one series for an mTLS peer (its SPIFFE namespace and principal,
// mutual_tls) and one for a plaintext peer (unknown, none), with the bytes each way.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { spiffeServerIdentityCheck } from "../ca/peer-identity.js";
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

test("tcp metrics: mutual_tls with the peer's principal, none for plaintext; bytes from the app side", async () => {
  const mesh = await testRoot();
  const server = await testWorkload(mesh, "foo", "app");
  const client = await testWorkload(mesh, "bar", "curl");
  const app = await startApp("echo");
  after(() => app.close());
  const tp = await startTestProxy(
    testConfig({ chains: [inboundChain(app.port, "PERMISSIVE")] }),
    server.identity,
  );
  after(() => tp.proxy.close());
  tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  await exchange(tp.proxy.ports.inbound, "hello", {
    secureContext: client.identity.getSecureContext(),
    servername: "outbound_.9000_._.app.foo.svc.cluster.local",
    ALPNProtocols: ["istio"],
    checkServerIdentity: spiffeServerIdentityCheck([server.spiffeId]),
  });
  await exchange(tp.proxy.ports.inbound, "plain!");
  await eventually(
    "both closed",
    () => (tp.proxy.stats.mesh.text().match(/^istio_tcp_connections_closed_total/gm) ?? []).length === 2,
  );
  const text = tp.proxy.stats.mesh.text();
  const mtls =
    /source_workload_namespace="bar",source_principal="spiffe:\/\/cluster\.local\/ns\/bar\/sa\/curl",.*request_protocol="tcp",response_flags="-",connection_security_policy="mutual_tls"\}/;
  const plain =
    /source_workload_namespace="unknown",source_principal="unknown",.*connection_security_policy="none"\}/;
  for (const [family, mtlsValue, plainValue] of [
    ["istio_tcp_connections_opened_total", 1, 1],
    ["istio_tcp_connections_closed_total", 1, 1],
    ["istio_tcp_received_bytes_total", 5, 6],
    ["istio_tcp_sent_bytes_total", 5, 6],
  ] as const) {
    const lines = text.split("\n").filter((l) => l.startsWith(`${family}{`));
    assert.match(lines.find((l) => mtls.test(l)) ?? "", new RegExp(` ${mtlsValue}$`), family);
    assert.match(lines.find((l) => plain.test(l)) ?? "", new RegExp(` ${plainValue}$`), family);
  }
  assert.match(
    text,
    /destination_workload="app",destination_workload_namespace="foo",destination_principal="spiffe:\/\/cluster\.local\/ns\/foo\/sa\/app"/,
  );
});
