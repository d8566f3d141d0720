// Shared fixtures for the CA tests: roots, issued identities, and a loopback mTLS server that records
// what it saw (the server's view is the reliable one under TLS 1.3).
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { createMeshRoot } from "./authority.js";
import type { CertificateAuthority } from "./authority.js";
import { generateCsr } from "./csr.js";
import { issue } from "./issue.js";
import { peerIdentity } from "./peer-identity.js";

export const T0 = new Date();

export async function testRoot(trustDomain = "cluster.local"): Promise<CertificateAuthority> {
  return (await createMeshRoot({ trustDomain, now: T0 })).authority;
}

export interface TestIdentity {
  key: string;
  cert: string;
  ca: string;
}

export async function testIdentity(
  ca: CertificateAuthority,
  namespace: string,
  serviceAccount: string,
  o: { now?: Date; lifetimeMs?: number; trustBundle?: string } = {},
): Promise<TestIdentity> {
  const { csrPem, keyPem } = await generateCsr();
  const cert = await issue(
    ca,
    csrPem,
    { trustDomain: ca.trustDomain, namespace, serviceAccount },
    o.now ?? T0,
    {
      lifetimeMs: o.lifetimeMs,
    },
  );
  return { key: keyPem, cert, ca: o.trustBundle ?? ca.rootsPem };
}

export interface ServerView {
  accepted: string[];
  rejected: Array<string | null>;
}

/** An echo server requiring client certificates; records peer SPIFFE ids and authorization errors. */
export async function startMtlsServer(
  options: tls.TlsOptions,
): Promise<{ server: tls.Server; port: number; view: ServerView; sockets: Set<tls.TLSSocket> }> {
  const view: ServerView = { accepted: [], rejected: [] };
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ requestCert: true, rejectUnauthorized: true, ...options }, (socket) => {
    view.accepted.push(peerIdentity(socket)?.spiffeId ?? "(none)");
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.pipe(socket);
  });
  server.on("tlsClientError", (_err, socket) =>
    view.rejected.push(socket.authorizationError?.toString() ?? null),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port, view, sockets };
}

export interface ClientOutcome {
  ok: boolean;
  error?: string;
  serverSerial?: string;
  socket?: tls.TLSSocket;
}

/** Connects, sends one line and waits for its echo (or a failure); leaves the socket open when asked. */
export async function connectAndEcho(
  port: number,
  options: tls.ConnectionOptions,
  keepOpen = false,
): Promise<ClientOutcome> {
  const socket = tls.connect({ host: "127.0.0.1", port, ...options });
  socket.on("error", () => undefined);
  return new Promise((resolve) => {
    let serverSerial: string | undefined;
    socket.once("secureConnect", () => {
      serverSerial = socket.getPeerCertificate().serialNumber;
      socket.write("ping\n");
    });
    socket.once("data", (d) => {
      if (!keepOpen) socket.end();
      resolve({ ok: d.toString() === "ping\n", serverSerial, socket });
    });
    socket.once("error", (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message }));
    socket.once("close", () => resolve({ ok: false, error: "closed" }));
  });
}

/** Writes a line on an open socket and waits for its echo. */
export async function echoOn(socket: tls.TLSSocket, line: string): Promise<boolean> {
  socket.write(line);
  const [d] = (await once(socket, "data")) as [Buffer];
  return d.toString() === line;
}
