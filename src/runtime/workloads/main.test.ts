import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

import { request } from "./test-client.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));

interface Started {
  child: ChildProcess;
  lines: string[];
  exit: Promise<number | null>;
}

/** Runs main.js and resolves once it has logged `count` "listening" lines (or "sleeping"). */
async function run(args: string[], env: Record<string, string> = {}, count = 1): Promise<Started> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: "pipe" });
  const lines: string[] = [];
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const parts = buffered.split("\n");
      buffered = parts.pop() ?? "";
      lines.push(...parts);
      if (lines.filter((l) => / event=(listening|sleeping)/.test(l)).length >= count) resolve();
    });
    void exit.then((code) => reject(new Error(`exited ${code}: ${lines.join("\n")}`)));
  });
  return { child, lines, exit };
}

function portsOf(lines: string[]): number[] {
  return lines.flatMap((l) => (/ event=listening port=(\d+)/.exec(l)?.[1] ?? []) as string[]).map(Number);
}

async function stop(started: Started): Promise<void> {
  started.child.kill("SIGTERM");
  assert.equal(await started.exit, 0);
}

test("tcp-echo: listens on every port, logs each event, exits 0 on SIGTERM", async () => {
  const echo = await run(["tcp-echo", "0,0", "hello"], { SHOAL_LISTEN_HOST: "127.0.0.1" }, 2);
  try {
    const [port] = portsOf(echo.lines);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port: port! });
      socket.on("data", (chunk) => {
        resolve(chunk.toString());
        socket.end();
      });
      socket.on("error", reject);
      socket.write("port 9000\n");
    });
    assert.equal(answer, "hello port 9000\n");
  } finally {
    await stop(echo);
  }
  assert.ok(echo.lines.some((l) => / workload=tcp-echo event=request .*line="port 9000"/.test(l)));
  assert.ok(echo.lines.some((l) => / event=stopping signal=SIGTERM/.test(l)));
});

test("tcp-echo answers `echo … | nc` and the client exits on its own", { skip: !hasNc() }, async () => {
  const echo = await run(["tcp-echo", "0", "hello"], {
    SHOAL_LISTEN_HOST: "127.0.0.1",
    TCP_ECHO_IDLE_CLOSE_MS: "200",
  });
  try {
    const [port] = portsOf(echo.lines);
    const nc = spawn("sh", ["-c", `echo "port 9000" | nc 127.0.0.1 ${port}`]);
    let out = "";
    nc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const timer = setTimeout(() => nc.kill(), 5000);
    const code = await new Promise((resolve) => nc.on("exit", resolve));
    clearTimeout(timer);
    assert.equal(code, 0);
    assert.equal(out, "hello port 9000\n");
  } finally {
    await stop(echo);
  }
});

test("httpbin honours env PORT=0 and answers /ip", async () => {
  const bin = await run(["httpbin", "--default-port", "8080"], { SHOAL_LISTEN_HOST: "127.0.0.1", PORT: "0" });
  try {
    const [port] = portsOf(bin.lines);
    const answer = await request({ port: port!, path: "/ip" });
    assert.deepEqual(JSON.parse(answer.body), { origin: "127.0.0.1" });
  } finally {
    await stop(bin);
  }
  assert.ok(
    bin.lines.some((l) => / event=request method=GET path=\/ip status=200 peer=127\.0\.0\.1/.test(l)),
  );
});

test("details and productpage take a port argument", async () => {
  const details = await run(["details", "0"], { SHOAL_LISTEN_HOST: "127.0.0.1" });
  const detailsPort = portsOf(details.lines)[0]!;
  const page = await run(["productpage", "--port", "0"], {
    SHOAL_LISTEN_HOST: "127.0.0.1",
    DETAILS_HOSTNAME: "127.0.0.1",
    DETAILS_SERVICE_PORT: String(detailsPort),
  });
  try {
    const answer = await request({ port: portsOf(page.lines)[0]!, path: "/productpage" });
    assert.match(answer.body, /William Shakespeare/);
  } finally {
    await stop(page);
    await stop(details);
  }
});

test("sleep sleeps until SIGTERM", async () => {
  const sleeper = await run(["sleep"]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(sleeper.child.exitCode, null);
  await stop(sleeper);
});

test("an unknown workload or bad arguments exit 2 with the reason", () => {
  const unknown = spawnSync(process.execPath, [MAIN, "nginx"], { encoding: "utf8" });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown workload "nginx"; the built-in stand-ins are: tcp-echo, httpbin/);
  const bad = spawnSync(process.execPath, [MAIN, "tcp-echo", "90x1", "hello"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stdout, /event=error/);
});

function hasNc(): boolean {
  return spawnSync("sh", ["-c", "command -v nc"]).status === 0;
}

test("one-shot commands run and exit with their code: fortio version, fortio load, an unknown fortio command", () => {
  const version = spawnSync(process.execPath, [MAIN, "fortio", "version"], { encoding: "utf8" });
  assert.equal(version.status, 0);
  assert.equal(version.stdout, "shoal\n");
  const load = spawnSync(
    process.execPath,
    [MAIN, "fortio", "load", "-c", "1", "-n", "2", "http://127.0.0.1:1/"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(load.status, 0);
  assert.match(load.stdout, /^Code -1 : 2 \(100\.0 %\)$/m);
  const unknown = spawnSync(process.execPath, [MAIN, "fortio", "frobnicate"], { encoding: "utf8" });
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});

test("reviews and helloworld take their version from args and their pod from HOSTNAME", async () => {
  const hello = await run(["helloworld", "--version", "v2", "0"], {
    SHOAL_LISTEN_HOST: "127.0.0.1",
    HOSTNAME: "hw-1",
  });
  const reviews = await run(["reviews", "--version", "v1", "0"], {
    SHOAL_LISTEN_HOST: "127.0.0.1",
    HOSTNAME: "rv-1",
  });
  try {
    const answer = await request({ port: portsOf(hello.lines)[0]!, path: "/hello" });
    assert.equal(answer.body, "Hello version: v2, instance: hw-1\n");
    const doc = JSON.parse((await request({ port: portsOf(reviews.lines)[0]!, path: "/reviews/0" })).body);
    assert.equal(doc.podname, "rv-1");
  } finally {
    await stop(hello);
    await stop(reviews);
  }
});
