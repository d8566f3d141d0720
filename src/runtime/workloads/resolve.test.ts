import assert from "node:assert/strict";
import { test } from "node:test";

import { isShoalError } from "../../api/errors.js";
import { parseHttpbinArgs } from "./httpbin.js";
import {
  containerEnv,
  expandVars,
  resolveContainer,
  type ContainerSpec,
  type ResolveOptions,
} from "./resolve.js";

const HOST_BINARIES: Record<string, string> = {
  sleep: "/usr/bin/sleep",
  sh: "/usr/bin/sh",
  curl: "/usr/bin/curl",
  nc: "/usr/bin/nc",
};

const options: ResolveOptions = {
  nodeBinary: "/node",
  workloadsMain: "/w/main.js",
  lookPath: (name) => HOST_BINARIES[name],
  isExecutable: (path) => Object.values(HOST_BINARIES).includes(path) || path === "/opt/tool",
};

const NODE = ["/node", "/w/main.js"];

test("containers resolve to host commands or stand-ins", () => {
  const cases: [string, Omit<ContainerSpec, "name">, string[]][] = [
    // With a command: the host command, args appended (they replace the image's default args).
    [
      "command + args",
      { image: "curlimages/curl", command: ["/bin/sleep"], args: ["infinity"] },
      ["/usr/bin/sleep", "infinity"],
    ],
    [
      "/bin/sleep maps to the host's sleep",
      { command: ["/bin/sleep", "infinity"] },
      ["/usr/bin/sleep", "infinity"],
    ],
    [
      "sh -c runs the host shell",
      { image: "busybox", command: ["sh", "-c", "echo hi | nc tcp-echo 9000"] },
      ["/usr/bin/sh", "-c", "echo hi | nc tcp-echo 9000"],
    ],
    ["/bin/sh too", { command: ["/bin/sh", "-c"], args: ["sleep 1"] }, ["/usr/bin/sh", "-c", "sleep 1"]],
    ["a host path the host has is kept", { command: ["/opt/tool", "x"] }, ["/opt/tool", "x"]],
    [
      "command on a stand-in image still wins",
      { image: "istio/tcp-echo-server", command: ["sleep", "5"] },
      ["/usr/bin/sleep", "5"],
    ],
    // Without a command: the stand-in for the image with the container's args, or the image defaults.
    [
      "tcp-echo with args",
      { image: "docker.io/istio/tcp-echo-server:1.3", args: ["9000,9001,9002", "hello"] },
      [...NODE, "tcp-echo", "9000,9001,9002", "hello"],
    ],
    ["tcp-echo defaults", { image: "istio/tcp-echo-server:1.3" }, [...NODE, "tcp-echo", "9000", "hello"]],
    [
      "go-httpbin",
      { image: "docker.io/mccutchen/go-httpbin:v2.15.0" },
      [...NODE, "httpbin", "--default-port", "8080", "--flavor", "go"],
    ],
    [
      "go-httpbin -port",
      { image: "mccutchen/go-httpbin", args: ["-port", "9090"] },
      [...NODE, "httpbin", "--default-port", "8080", "--flavor", "go", "-port", "9090"],
    ],
    [
      "kennethreitz/httpbin",
      { image: "docker.io/kennethreitz/httpbin" },
      [...NODE, "httpbin", "--default-port", "80", "--flavor", "python"],
    ],
    [
      "kong/httpbin",
      { image: "kong/httpbin:0.1.0" },
      [...NODE, "httpbin", "--default-port", "80", "--flavor", "python"],
    ],
    ["details", { image: "docker.io/istio/examples-bookinfo-details-v1:1.20.2" }, [...NODE, "details"]],
    [
      "productpage",
      { image: "istio/examples-bookinfo-productpage-v1@sha256:1234" },
      [...NODE, "productpage"],
    ],
    ["curl image sleeps", { image: "curlimages/curl:8.8.0" }, [...NODE, "sleep"]],
    ["busybox sleeps", { image: "busybox:1.36" }, [...NODE, "sleep"]],
    [
      "busybox args are the command",
      { image: "busybox", args: ["sleep", "3600"] },
      ["/usr/bin/sleep", "3600"],
    ],
    [
      "curl image: option args go to curl",
      { image: "curlimages/curl", args: ["-s", "http://x"] },
      ["/usr/bin/curl", "-s", "http://x"],
    ],
    [
      "curl image: other args are the command",
      { image: "curlimages/curl", args: ["sleep", "1d"] },
      ["/usr/bin/sleep", "1d"],
    ],
    [
      "$(VAR) in args",
      { command: ["sh", "-c"], args: ["echo $(MSG) $$(MSG) $(NOPE)"], env: [{ name: "MSG", value: "hi" }] },
      ["/usr/bin/sh", "-c", "echo hi $(MSG) $(NOPE)"],
    ],
  ];
  for (const [what, spec, argv] of cases) {
    assert.deepEqual(resolveContainer({ name: "c", ...spec }, options).argv, argv, what);
  }
});

test("env: list or map form, later values see earlier ones, valueFrom left unset", () => {
  assert.deepEqual(
    containerEnv([
      { name: "A", value: "1" },
      { name: "B", value: "$(A)-2" },
      { name: "C", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
    ]),
    { A: "1", B: "1-2" },
  );
  assert.deepEqual(containerEnv({ PORT: "8000" }), { PORT: "8000" });
  assert.deepEqual(
    resolveContainer({ name: "h", image: "mccutchen/go-httpbin", env: { PORT: "8000" } }, options).env,
    {
      PORT: "8000",
    },
  );
  assert.equal(expandVars("$$ $(A) $(", { A: "x" }), "$ x $(");
});

test("errors name the container and image and say what to add", () => {
  const cases: [string, ContainerSpec, string, RegExp[]][] = [
    [
      "unsupported image",
      { name: "web", image: "docker.io/library/nginx:1.25" },
      "CONTAINER_UNSUPPORTED_IMAGE",
      [
        /Pod foo\/web-1: container "web" \(image docker\.io\/library\/nginx:1\.25\)/,
        /add a "command"/,
        /istio\/tcp-echo-server/,
        /mccutchen\/go-httpbin/,
        /curlimages\/curl/,
      ],
    ],
    [
      "no image, no command",
      { name: "empty" },
      "CONTAINER_NO_IMAGE",
      [/container "empty" has neither an image nor a command/, /add a "command"/],
    ],
    [
      "command the host lacks",
      { name: "echo", image: "istio/tcp-echo-server", command: ["/bin/tcp-echo"] },
      "CONTAINER_COMMAND_NOT_FOUND",
      [
        /command "\/bin\/tcp-echo" is not available on this host/,
        /remove "command" to run the built-in stand-in for istio\/tcp-echo-server/,
      ],
    ],
    ["empty command entry", { name: "x", command: [""] }, "CONTAINER_INVALID", [/"command" is empty/]],
  ];
  for (const [what, spec, code, patterns] of cases) {
    assert.throws(
      () => resolveContainer(spec, { ...options, owner: "Pod foo/web-1" }),
      (err: unknown) => {
        assert.ok(isShoalError(err, code), `${what}: ${String(err)}`);
        for (const pattern of patterns) assert.match(err.message, pattern, what);
        return true;
      },
    );
  }
});

test("without test hooks the host's own PATH is searched", () => {
  const resolved = resolveContainer(
    { name: "s", command: ["/bin/sleep", "infinity"] },
    { nodeBinary: "n", workloadsMain: "m" },
  );
  assert.match(resolved.argv[0]!, /\/sleep$/);
  assert.equal(resolved.argv[1], "infinity");
});

test("/usr/bin/fortio runs the fortio stand-in when the host has no fortio", () => {
  const fortio = resolveContainer(
    { name: "c", image: "fortio/fortio", command: ["/usr/bin/fortio", "load", "-n", "1", "http://x"] },
    options,
  );
  assert.deepEqual(fortio.argv, [...NODE, "fortio", "load", "-n", "1", "http://x"]);
  const withHost = resolveContainer(
    { name: "c", command: ["fortio", "version"] },
    { ...options, lookPath: (name) => (name === "fortio" ? "/opt/fortio" : undefined) },
  );
  assert.deepEqual(withHost.argv, ["/opt/fortio", "version"]);
  const image = resolveContainer({ name: "c", image: "fortio/fortio" }, options);
  assert.deepEqual(image.argv, [...NODE, "fortio", "server"]);
});

test("gunicorn (the Mirroring task's httpbin command) runs the httpbin stand-in on the port it binds", () => {
  const httpbin = resolveContainer(
    {
      name: "httpbin",
      image: "docker.io/kennethreitz/httpbin",
      command: ["gunicorn", "--access-logfile", "-", "-b", "0.0.0.0:80", "httpbin:app"],
    },
    options,
  );
  assert.deepEqual(httpbin.argv, [
    ...NODE,
    "httpbin",
    "--access-logfile",
    "-",
    "-b",
    "0.0.0.0:80",
    "httpbin:app",
  ]);
  assert.equal(parseHttpbinArgs(httpbin.argv.slice(NODE.length + 1), {}).port, 80);
});
