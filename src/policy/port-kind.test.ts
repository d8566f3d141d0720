// The port kind authorization uses: HTTP-family Service ports are HTTP, everything else is TCP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inboundPortKind } from "./port-kind.js";

test("inbound port kind from the Service ports that target it", () => {
  const tcpEcho = [
    { name: "tcp", port: 9000 },
    { name: "tcp-other", port: 9001 },
  ];
  const httpbin = [{ name: "http", port: 8000, targetPort: 8080 }];
  const cases: Array<[string, Parameters<typeof inboundPortKind>[0], number, "http" | "tcp"]> = [
    ["tcp-named port", tcpEcho, 9000, "tcp"],
    ["undeclared port (passthrough chain) is TCP", tcpEcho, 9002, "tcp"],
    ["http port by target port", httpbin, 8080, "http"],
    ["the service port number is not the target", httpbin, 8000, "tcp"],
    ["appProtocol wins over the name", [{ name: "tcp", appProtocol: "http", port: 80 }], 80, "http"],
    ["grpc is HTTP-family", [{ name: "grpc-api", port: 7070 }], 7070, "http"],
    ["https (TLS passthrough to the app) is TCP", [{ name: "https", port: 443 }], 443, "tcp"],
    ["unnamed port is TCP", [{ port: 5000 }], 5000, "tcp"],
  ];
  for (const [name, ports, target, want] of cases) assert.equal(inboundPortKind(ports, target), want, name);
});
