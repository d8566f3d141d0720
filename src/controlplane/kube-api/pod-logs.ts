// `pods/log`: a container's output from the file the runtime writes, with kubectl's options (container,
// follow, tailLines, limitBytes). The pod and container are resolved the way `shoal logs` resolves them.
import { open, stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { isShoalError } from "../../api/errors.js";
import { streamFile } from "../pod-access.js";
import type { KubeBackend } from "./backend.js";
import type { ResourcePath } from "./request.js";
import { queryBool } from "./request.js";
import { badRequest, fail, notFound } from "./status.js";

/** The last `n` lines of `text` (a final newline does not count as an empty line). */
export function tailLines(text: string, n: number): string {
  if (n <= 0) return "";
  const lines = text.split("\n");
  const trailing = lines[lines.length - 1] === "" ? lines.pop() : undefined;
  return lines.slice(-n).join("\n") + (trailing !== undefined ? "\n" : "");
}

export async function handleLogs(
  b: KubeBackend,
  p: ResourcePath,
  url: URL,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const namespace = p.namespace ?? "default";
  const pod = p.name ?? "";
  const container = url.searchParams.get("container") ?? undefined;
  if (!b.store.get({ kind: "Pod", namespace, name: pod })) throw notFound(p.res, pod);
  let target;
  try {
    target = b.api.execTarget(namespace, pod, container);
  } catch (err) {
    if (isShoalError(err)) throw badRequest(err.message);
    throw err;
  }
  const file = b.logFile?.(namespace, pod, target.container);
  if (!file)
    throw badRequest(
      `container "${target.container}" in pod "${pod}" is waiting to start: no logs are kept for it`,
    );
  const follow = queryBool(url, "follow");
  const tail = url.searchParams.get("tailLines");
  const limit = Number(url.searchParams.get("limitBytes")) || undefined;
  res.writeHead(200, { "content-type": "text/plain", "transfer-encoding": "chunked" });
  let sent = 0;
  const out = {
    write(chunk: Buffer | string) {
      if (limit !== undefined && sent >= limit) return true;
      const buf = Buffer.from(chunk);
      const part = limit !== undefined ? buf.subarray(0, limit - sent) : buf;
      sent += part.length;
      return res.write(part);
    },
  } as unknown as NodeJS.WritableStream;
  if (tail !== null) {
    const n = Number(tail);
    if (!Number.isInteger(n) || n < 0)
      throw badRequest(`tailLines must be a non-negative integer, not "${tail}"`);
    // The tail of what is there now, then (with follow) whatever is appended after it.
    const size = await stat(file).then(
      (s) => s.size,
      () => 0,
    );
    const fh = await open(file, "r").catch(() => undefined);
    const text = fh ? (await fh.readFile()).toString("utf8") : "";
    await fh?.close();
    out.write(tailLines(text.slice(0, size), n));
    if (follow) await followFrom(file, size, out, signal);
  } else {
    try {
      await streamFile(file, out, follow, signal);
    } catch (err) {
      throw fail(500, "InternalError", (err as Error).message);
    }
  }
  res.end();
}

async function followFrom(
  file: string,
  offset: number,
  out: NodeJS.WritableStream,
  signal: AbortSignal,
): Promise<void> {
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, 200));
    const size = await stat(file).then(
      (s) => s.size,
      () => offset,
    );
    if (size < offset) offset = 0;
    if (size === offset) continue;
    const fh = await open(file, "r");
    const buf = Buffer.alloc(size - offset);
    await fh.read(buf, 0, buf.length, offset);
    await fh.close();
    out.write(buf);
    offset = size;
  }
}
