import assert from "node:assert/strict";
import { test } from "node:test";

import { podNetnsName } from "./names.js";
import { podCommand, withStandInTools, type HostView } from "./pod-command.js";
import { trustFiles } from "./trust-store.js";

const NETNS = podNetnsName("c1", "default", "fortio-deploy-1");

function host(over: Partial<HostView> = {}): HostView {
  return {
    nodeBinary: "/node",
    workloadsMain: "/w/main.js",
    lookPath: (name) => (name === "curl" ? "/usr/bin/curl" : undefined),
    isExecutable: (path) => path === "/usr/bin/curl",
    exists: () => false,
    ...over,
  };
}

test("fortio, or /usr/bin/fortio, runs the stand-in when the host has none", () => {
  assert.deepEqual(withStandInTools(["/usr/bin/fortio", "load", "-n", "20"], host()), [
    "/node",
    "/w/main.js",
    "fortio",
    "load",
    "-n",
    "20",
  ]);
  assert.deepEqual(withStandInTools(["fortio", "curl", "x"], host()).slice(0, 3), [
    "/node",
    "/w/main.js",
    "fortio",
  ]);
  const withFortio = host({ lookPath: (name) => (name === "fortio" ? "/opt/bin/fortio" : undefined) });
  assert.deepEqual(withStandInTools(["/usr/bin/fortio", "load"], withFortio), ["/usr/bin/fortio", "load"]);
  assert.deepEqual(withStandInTools(["curl", "-s", "x"], host()), ["curl", "-s", "x"]);
});

test("once the cluster's trust store exists, commands get it through the prelude (after setpriv)", () => {
  const bundle = trustFiles("c1").bundle;
  const withStore = host({ exists: (path) => path === bundle });
  const [file, args] = podCommand(NETNS, ["curl", "https://httpbin.org"], { uid: 1000 }, withStore);
  assert.equal(file, "ip");
  assert.deepEqual(args.slice(0, 4), ["netns", "exec", NETNS, "setpriv"]);
  const sh = args.indexOf("sh");
  assert.ok(sh > args.indexOf("--"), "the prelude runs as the container's user");
  assert.match(args[sh + 2]!, /SSL_CERT_FILE="\$\{SSL_CERT_FILE-[^}]*ca-certificates\.crt\}"/);
  assert.match(args[sh + 2]!, /CURL_CA_BUNDLE=/);
  assert.deepEqual(args.slice(sh + 3), ["sh", "curl", "https://httpbin.org"]);
  // No store yet (or not a cluster namespace): the command runs as given.
  assert.deepEqual(podCommand(NETNS, ["curl"], {}, host())[1], ["netns", "exec", NETNS, "curl"]);
  assert.deepEqual(podCommand("other", ["curl"], {}, withStore)[1], ["netns", "exec", "other", "curl"]);
});
