// `pods/exec` over WebSocket with Kubernetes' channel protocols (v5.channel.k8s.io, v4.channel.k8s.io):
// channel 0 stdin, 1 stdout, 2 stderr, 3 the final Status (exit code), 4 resize, 255 close (v5).
// The command runs in the pod's network namespace the way `shoal exec` runs it.
import { spawn } from "node:child_process";
import type { IncomingMessage } from "node:http";
import { constants } from "node:os";
import { PassThrough } from "node:stream";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { ShoalError, isShoalError } from "../../api/errors.js";
import { podCommand } from "../../runtime/pod-command.js";
import { withoutCallerTrust } from "../../runtime/trust-store.js";
import type { DaemonApi } from "../api-server.js";
import type { KubeBackend, PodExec } from "./backend.js";
import { parseResourcePath, queryBool } from "./request.js";
import { StatusError } from "./status.js";
import { FrameReader, acceptUpgrade, frame } from "./websocket.js";

export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/** Exec through `ip netns exec` into the pod (needs the local runtime and root), as `shoal exec` does. */
export function netnsPodExec(api: DaemonApi): PodExec {
  return async (o) => {
    const target = api.execTarget(o.namespace, o.pod, o.container);
    if (!target.ready)
      throw new ShoalError(
        "POD_NOT_RUNNING",
        `pod ${o.namespace}/${o.pod} is not running (phase ${target.phase})`,
      );
    const [file, argv] = podCommand(target.netns, o.command);
    const env = {
      ...withoutCallerTrust(process.env),
      HOSTNAME: o.pod,
      POD_NAME: o.pod,
      POD_NAMESPACE: o.namespace,
      ...(target.podIP ? { POD_IP: target.podIP } : {}),
      ...target.env,
    };
    const child = spawn(file, argv, { env, stdio: ["pipe", "pipe", "pipe"] });
    o.stdin?.pipe(child.stdin);
    if (!o.stdin) child.stdin.end();
    child.stdout.on("data", o.stdout);
    child.stderr.on("data", o.stderr);
    o.signal.addEventListener("abort", () => child.kill("SIGTERM"));
    return new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (code, signal) =>
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)),
      );
    });
  };
}

function rejectUpgrade(socket: Duplex, code: number, message: string): void {
  const body = JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    code,
  });
  socket.end(
    `HTTP/1.1 ${code} ${code === 401 ? "Unauthorized" : code === 404 ? "Not Found" : "Bad Request"}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Handles an upgrade request; anything but an authenticated pods/exec is refused with a Status. */
export function handleExecUpgrade(b: KubeBackend, req: IncomingMessage, socket: Duplex): void {
  if (!(req.socket as TLSSocket).authorized) return rejectUpgrade(socket, 401, "Unauthorized");
  const url = new URL(req.url ?? "/", "https://shoal");
  let path;
  try {
    path = parseResourcePath(url.pathname);
  } catch (err) {
    return rejectUpgrade(socket, 404, err instanceof StatusError ? err.message : "not found");
  }
  if (!path || path.res.kind !== "Pod" || path.subresource !== "exec" || !path.name)
    return rejectUpgrade(socket, 404, "the server could not find the requested resource");
  const command = url.searchParams.getAll("command");
  if (command.length === 0)
    return rejectUpgrade(socket, 400, "you must specify at least one command for the container");
  if (!b.store.get({ kind: "Pod", namespace: path.namespace, name: path.name }))
    return rejectUpgrade(socket, 404, `pods "${path.name}" not found`);
  const protocol = acceptUpgrade(req, socket, EXEC_PROTOCOLS);
  if (!protocol)
    return rejectUpgrade(socket, 400, `no supported subprotocol (want one of ${EXEC_PROTOCOLS.join(", ")})`);
  const send = (channel: number, data: Buffer) => {
    if (!socket.destroyed) socket.write(frame(2, Buffer.concat([Buffer.from([channel]), data])));
  };
  const ac = new AbortController();
  const stdin = queryBool(url, "stdin") ? new PassThrough() : undefined;
  const reader = new FrameReader((m) => {
    if (m.opcode === 8) return void socket.end(frame(8, Buffer.alloc(0)));
    if (m.opcode === 9) return void socket.write(frame(10, m.data));
    if (m.data.length === 0) return;
    const channel = m.data[0];
    if (channel === 0) stdin?.write(m.data.subarray(1));
    else if (channel === 255 && m.data[1] === 0) stdin?.end();
  });
  socket.on("data", (c: Buffer) => reader.push(c));
  socket.on("close", () => {
    ac.abort();
    stdin?.end();
  });
  socket.on("error", () => ac.abort());
  const exec = b.exec ?? netnsPodExec(b.api);
  exec({
    namespace: path.namespace ?? "default",
    pod: path.name,
    container: url.searchParams.get("container") ?? undefined,
    command,
    stdin,
    stdout: (c) => send(1, c),
    stderr: (c) => send(2, c),
    signal: ac.signal,
  })
    .then((code) => {
      // kubectl exits with the code the Status names.
      const status =
        code === 0
          ? { metadata: {}, status: "Success" }
          : {
              metadata: {},
              status: "Failure",
              message: `command terminated with non-zero exit code: exit status ${code}`,
              reason: "NonZeroExitCode",
              details: { causes: [{ reason: "ExitCode", message: String(code) }] },
            };
      send(3, Buffer.from(JSON.stringify(status)));
    })
    .catch((err: unknown) => {
      const message = isShoalError(err) ? err.message : `exec failed: ${(err as Error).message}`;
      send(
        3,
        Buffer.from(JSON.stringify({ metadata: {}, status: "Failure", message, reason: "InternalError" })),
      );
    })
    .finally(() => {
      if (!socket.destroyed) socket.end(frame(8, Buffer.from([0x03, 0xe8])));
    });
}
