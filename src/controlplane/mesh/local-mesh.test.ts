// The daemon's mesh part without a cluster: a token minted into the pod's run directory lets a proxy
// (XdsClient + the Certificate RPC) get its config and certificate; a store change pushes a new config;
// proxy-status lists it; stop removes the socket.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { generateCsr } from "../../ca/csr.js";
import { spiffeIdOf } from "../../ca/peer-identity.js";
import { splitPemCertificates } from "../../ca/x509.js";
import { X509Certificate } from "node:crypto";
import { grpcCertificateTransport } from "../../proxy/certificate-transport.js";
import { XdsClient } from "../../proxy/xds-client.js";
import type { ContainerState, PodState } from "../../runtime/cluster-state.js";
import { podRunFiles, xdsSocketPath } from "../../runtime/run-dir.js";
import { ResourceStore } from "../store.js";
import { waitFor } from "../xds/test-support.js";
import { createLocalMesh } from "./local-mesh.js";

const runDir = await mkdtemp(join(tmpdir(), "shoal-run-"));
const stateDir = await mkdtemp(join(tmpdir(), "shoal-mesh-"));
process.env["SHOAL_RUN_DIR"] = runDir;
after(async () => {
  await rm(runDir, { recursive: true, force: true });
  await rm(stateDir, { recursive: true, force: true });
});

const pod: PodState = {
  namespace: "foo",
  name: "curl-1",
  uid: "u1",
  ip: "10.244.0.9",
  labels: { app: "curl" },
  serviceAccount: "curl",
  netns: "shoal-lm-x",
  vethNode: "a",
  vethPod: "b",
  hosts: [],
  containers: [],
  captureRules: "",
};
const me = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
const proxyContainer: ContainerState = {
  name: "istio-proxy",
  argv: ["proxy"],
  env: {},
  ...me,
  restartPolicy: "Always",
  startOrder: 0,
  runToCompletion: false,
};

test("token → config and certificate; store change → new config; status; stop", async () => {
  const store = await ResourceStore.open(stateDir);
  await store.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: "foo" } });
  await store.put({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "curl-1", namespace: "foo", labels: { app: "curl" } },
    spec: { serviceAccountName: "curl", containers: [{ name: "curl" }, { name: "istio-proxy" }] },
    status: { phase: "Running", podIP: "10.244.0.9" },
  });
  // Tokens are bound to the pod's UID as the store knows it.
  pod.uid = store.get({ kind: "Pod", namespace: "foo", name: "curl-1" })!.metadata.uid!;
  const mesh = createLocalMesh();
  await assert.rejects(mesh.beforeStart(pod, proxyContainer), /not running/);
  const lines: string[] = [];
  const ext = await mesh.extension({
    stateDir,
    clusterId: "lm1",
    store,
    log: (e) => lines.push(e),
  });
  let client: XdsClient | undefined;
  try {
    await mesh.beforeStart(pod, { ...proxyContainer, name: "curl" }); // not the proxy: nothing to do
    await mesh.beforeStart(pod, proxyContainer);
    const files = podRunFiles("lm1", "foo", "curl-1");
    assert.equal((await stat(files.token)).mode & 0o777, 0o400);
    assert.equal((await stat(files.dir)).mode & 0o777, 0o700);
    const token = (await readFile(files.token, "utf8")).trim();

    const configs: string[] = [];
    client = new XdsClient({
      target: `unix:${xdsSocketPath("lm1")}`,
      node: {
        id: "sidecar~10.244.0.9~curl-1.foo~foo.svc.cluster.local",
        podName: "curl-1",
        namespace: "foo",
      },
      token,
      onConfig: (c) => void configs.push(c.version),
    });
    client.start();
    await waitFor("a first config", () => configs.length === 1);
    assert.equal(client.config?.node.id, "sidecar~10.244.0.9~curl-1.foo~foo.svc.cluster.local");

    const { csrPem } = await generateCsr();
    const issued = await grpcCertificateTransport(client.channel)(csrPem, token);
    const leaf = new X509Certificate(splitPemCertificates(issued.chainPem)[0]!);
    assert.equal(spiffeIdOf(leaf), "spiffe://cluster.local/ns/foo/sa/curl");

    await store.put({
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "foo" },
      spec: { mtls: { mode: "STRICT" } },
    });
    await waitFor("the pushed change", () => configs.length === 2);
    const rows = mesh.status();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.podName, "curl-1");
    await waitFor("SYNCED", () => mesh.status()[0]!.state === "SYNCED");
    assert.equal(mesh.status()[0]!.versionAcked, configs[1]);
    // The proxy's admin socket is not served here: the error says where it looked.
    await assert.rejects(mesh.proxyConfig("foo", "curl-1"), /admin\.sock/);
    await assert.rejects(mesh.proxyConfig("foo", "nope"), /not found/);
  } finally {
    client?.close();
    await ext.stop();
  }
  assert.equal(existsSync(xdsSocketPath("lm1")), false, "socket removed on stop");
  assert.ok(lines.some((l) => l === "mesh control plane ready"));
  assert.deepEqual(mesh.status(), []);
});
