import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { kubeconfigFor, mergeKubeconfig, removeFromKubeconfig, userKubeconfigPath } from "./kubeconfig.js";

const pki = { caPem: "CA", serverCertPem: "S", serverKeyPem: "SK", clientCertPem: "C", clientKeyPem: "CK" };
const other = `apiVersion: v1
kind: Config
clusters: [{name: kind-x, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: kind-x, user: {token: t}}]
contexts: [{name: kind-x, context: {cluster: kind-x, user: kind-x}}]
current-context: kind-x
`;

test("the shoal context is added and made current, others kept; removing it restores the rest", () => {
  const merged = parse(mergeKubeconfig(other, kubeconfigFor(pki, "https://127.0.0.1:6443")));
  assert.equal(merged["current-context"], "shoal");
  assert.deepEqual(
    merged.contexts.map((c: { name: string }) => c.name),
    ["kind-x", "shoal"],
  );
  const shoal = merged.clusters.find((c: { name: string }) => c.name === "shoal");
  assert.equal(shoal.cluster.server, "https://127.0.0.1:6443");
  assert.equal(Buffer.from(shoal.cluster["certificate-authority-data"], "base64").toString(), "CA");
  // Merging twice keeps one entry.
  const twice = parse(
    mergeKubeconfig(mergeKubeconfig(other, kubeconfigFor(pki, "a")), kubeconfigFor(pki, "b")),
  );
  assert.equal(twice.clusters.filter((c: { name: string }) => c.name === "shoal").length, 1);
  const removed = parse(removeFromKubeconfig(mergeKubeconfig(other, kubeconfigFor(pki, "a"))));
  assert.deepEqual(
    removed.users.map((u: { name: string }) => u.name),
    ["kind-x"],
  );
  assert.equal(removed["current-context"], "");
  assert.equal(parse(removeFromKubeconfig(other))["current-context"], "kind-x");
});

test("the user's kubeconfig is $KUBECONFIG's first file, else ~/.kube/config", () => {
  assert.equal(userKubeconfigPath({ KUBECONFIG: "/a:/b" }, "/h"), "/a");
  assert.equal(userKubeconfigPath({}, "/h"), "/h/.kube/config");
});
