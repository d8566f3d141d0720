// The addon loader: a missing addon is a clear ShoalError (no fallback); the built addon answers
// "not redirected" for an ordinary loopback connection.
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { addonPaths, loadOriginalDst } from "./original-dst.js";

test("an addon that cannot be loaded is refused with the reason and the build command", () => {
  assert.throws(
    () => loadOriginalDst(["/nonexistent/original_dst.node"]),
    (e: unknown) =>
      isShoalError(e, "NATIVE_ADDON_UNAVAILABLE") &&
      /not built/.test(e.message) &&
      /node-gyp rebuild/.test(e.message),
  );
});

test("the built addon reports undefined for a socket that was not redirected", async (t) => {
  let lookup;
  try {
    lookup = loadOriginalDst(addonPaths());
  } catch (err) {
    t.skip(`addon not built: ${(err as Error).message}`);
    return;
  }
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection");
  const c = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  const [s] = (await accepted) as [net.Socket];
  assert.equal(lookup(s), undefined);
  s.destroy();
  c.destroy();
  server.close();
  assert.throws(
    () => lookup(s),
    (e: unknown) => isShoalError(e, "SOCKET_NO_FD"),
  );
});
