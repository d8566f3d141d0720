// An application calling its own Service through its sidecar (hairpin), and the caller address httpbin's
// `/ip` reports behind sidecars, on the local cluster: httpbin and curl with sidecars in foo, curl with a
// sidecar in bar, curl without one in legacy.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { SAMPLES, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker } from "../../src/testing/runtime-root.js";

/** Istio's inbound sidecar connects to the application from 127.0.0.6 (REDIRECT interception). */
const INBOUND_SOURCE = "127.0.0.6";

test("hairpin through the sidecar, and httpbin /ip behind sidecars", { timeout: 60_000 }, async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const c = await startMeshCluster("hairpin");
  t.after(() => c.close());
  for (const ns of ["foo", "bar", "legacy"]) await c.ok(["create", "namespace", ns]);
  for (const ns of ["foo", "bar"]) await c.ok(["label", "namespace", ns, "istio-injection=enabled"]);
  const samples = (...names: string[]) => names.flatMap((n) => ["-f", join(SAMPLES, n)]);
  await c.ok(["apply", ...samples("httpbin", "curl"), "-n", "foo"]);
  await c.ok(["apply", ...samples("curl"), "-n", "bar"]);
  await c.ok(["apply", ...samples("curl"), "-n", "legacy"]);
  await Promise.all([c.waitPods("foo", 2), c.waitPods("bar", 1), c.waitPods("legacy", 1)]);
  const curl = async (app: string, ns: string, args: string) => {
    const r = await c.sh(app, ns, `curl -s --max-time 10 ${args}; echo " exit=$?"`);
    return r.stdout.trim();
  };

  // Hairpin: the outbound sidecar picks the pod's own IP; the proxy's connection to it leaves via lo and
  // Istio's `-o lo ! -d 127.0.0.1/32 --uid-owner 1337 -j ISTIO_IN_REDIRECT` sends it to the inbound side.
  const code = await curl("httpbin", "foo", `-o /dev/null -w "%{http_code}" http://httpbin.foo:8000/get`);
  assert.equal(code, "200 exit=0", "httpbin calling its own Service through its sidecar");
  // It crossed the mesh: the inbound side terminated mTLS from the pod's own identity.
  const headers = await curl("httpbin", "foo", "http://httpbin.foo:8000/headers");
  assert.match(headers, /X-Forwarded-Client-Cert.*URI=spiffe:\/\/cluster\.local\/ns\/foo\/sa\/httpbin/s);
  // The application calling itself on its own pod IP directly is not captured by the proxy's rule.
  const podIP = await c.podIP("httpbin", "foo");
  const self = await curl("httpbin", "foo", `http://${podIP}:8080/ip`);
  assert.match(self, new RegExp(`"origin": ?"${podIP.replaceAll(".", "\\.")}"`), "the app calling itself");

  // /ip: Istio's sidecars leave X-Forwarded-For alone (no use_remote_address), and the inbound sidecar
  // connects to the application from 127.0.0.6, so httpbin reports 127.0.0.6 for every caller, meshed
  // (mTLS) or not (plaintext under PERMISSIVE).
  for (const from of ["foo", "bar", "legacy"]) {
    const ip = await curl("curl", from, "http://httpbin.foo:8000/ip");
    assert.match(
      ip,
      new RegExp(`"origin": ?"${INBOUND_SOURCE.replaceAll(".", "\\.")}"[\\s\\S]* exit=0$`),
      from,
    );
  }
  // An X-Forwarded-For the client sends reaches the application untouched; httpbin reports its first address.
  const forwarded = await curl(
    "curl",
    "bar",
    `-H "X-Forwarded-For: 198.51.100.7, 10.0.0.1" http://httpbin.foo:8000/ip`,
  );
  assert.match(forwarded, /"origin": ?"198\.51\.100\.7"/);
});
