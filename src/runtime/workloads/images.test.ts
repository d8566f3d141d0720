import assert from "node:assert/strict";
import { test } from "node:test";

import { imageBehaviour, parseImageRef, SUPPORTED_IMAGES } from "./images.js";

test("image references: registry, tag and digest are split off", () => {
  const cases: [string, ReturnType<typeof parseImageRef>][] = [
    ["istio/tcp-echo-server:1.3", { repository: "istio/tcp-echo-server", tag: "1.3" }],
    [
      "docker.io/mccutchen/go-httpbin:v2.15.0",
      { registry: "docker.io", repository: "mccutchen/go-httpbin", tag: "v2.15.0" },
    ],
    ["curl", { repository: "curl" }],
    ["docker.io/library/alpine:3.20", { registry: "docker.io", repository: "alpine", tag: "3.20" }],
    ["localhost:5000/team/app", { registry: "localhost:5000", repository: "team/app" }],
    [
      "gcr.io/x/busybox:1@sha256:abcd",
      { registry: "gcr.io", repository: "x/busybox", tag: "1", digest: "sha256:abcd" },
    ],
    ["KennethReitz/HTTPBIN", { repository: "kennethreitz/httpbin" }],
  ];
  for (const [image, ref] of cases) assert.deepEqual(parseImageRef(image), ref, image);
});

test("images map to stand-ins whatever the registry, tag or digest", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ["istio/tcp-echo-server:1.3", "standIn", "tcp-echo"],
    ["docker.io/istio/tcp-echo-server@sha256:00", "standIn", "tcp-echo"],
    ["mccutchen/go-httpbin:v2.15.0", "standIn", "httpbin"],
    ["docker.io/kennethreitz/httpbin", "standIn", "httpbin"],
    ["kong/httpbin:0.1.0", "standIn", "httpbin"],
    ["docker.io/istio/examples-bookinfo-details-v1:1.20.2", "standIn", "details"],
    ["istio/examples-bookinfo-productpage-v1:1.20.2", "standIn", "productpage"],
    ["curlimages/curl:8.8.0", "curl", "sleep"],
    ["curl", "curl", "sleep"],
    ["busybox:1.36", "shell", "sleep"],
    ["alpine", "shell", "sleep"],
    ["nginx:1.25", undefined, undefined],
    ["istio/examples-bookinfo-reviews-v1", "standIn", "reviews"],
    ["docker.io/istio/examples-bookinfo-ratings-v1:1.20.2", "standIn", "ratings"],
    ["docker.io/istio/examples-helloworld-v2", "standIn", "helloworld"],
    ["fortio/fortio:latest_release", "standIn", "fortio"],
    ["istio/examples-bookinfo-mongodb", undefined, undefined],
  ];
  for (const [image, kind, workload] of cases) {
    const behaviour = imageBehaviour(image);
    assert.equal(behaviour?.kind, kind, image);
    assert.equal(behaviour?.workload, workload, image);
  }
  assert.ok(SUPPORTED_IMAGES.includes("istio/tcp-echo-server"));
  assert.ok(SUPPORTED_IMAGES.includes("mccutchen/go-httpbin"));
});

test("versioned images tell their stand-in the version; fortio serves by default", () => {
  assert.deepEqual(imageBehaviour("docker.io/istio/examples-bookinfo-reviews-v3:1.20.2")?.fixedArgs, [
    "--version",
    "v3",
  ]);
  assert.deepEqual(imageBehaviour("istio/examples-helloworld-v1")?.fixedArgs, ["--version", "v1"]);
  assert.deepEqual(imageBehaviour("fortio/fortio")?.defaultArgs, ["server"]);
});
