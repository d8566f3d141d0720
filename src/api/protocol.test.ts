import assert from "node:assert/strict";
import { test } from "node:test";
import { isHttpProtocol, portProtocol } from "./protocol.js";

test("protocol: appProtocol beats the name; the name prefix before '-' decides; unknown otherwise", () => {
  const cases: Array<[{ name?: string; appProtocol?: string }, string]> = [
    [{ name: "http" }, "HTTP"],
    [{ name: "http-web" }, "HTTP"],
    [{ name: "HTTP2-x" }, "HTTP2"],
    [{ name: "grpc-web" }, "GRPC"],
    [{ name: "tcp" }, "TCP"],
    [{ name: "tcp-other" }, "TCP"],
    [{ name: "tls-x" }, "TLS"],
    [{ name: "https" }, "HTTPS"],
    [{ name: "httpx" }, "UNKNOWN"],
    [{ name: "web" }, "UNKNOWN"],
    [{}, "UNKNOWN"],
    [{ name: "tcp", appProtocol: "http" }, "HTTP"],
    [{ name: "web", appProtocol: "kubernetes.io/h2c" }, "HTTP2"],
  ];
  for (const [port, want] of cases) assert.equal(portProtocol(port), want, JSON.stringify(port));
  assert.equal(isHttpProtocol("HTTP"), true);
  assert.equal(isHttpProtocol("TCP"), false);
  assert.equal(isHttpProtocol("HTTPS"), false, "HTTPS at a sidecar is opaque TLS, handled at L4");
});
