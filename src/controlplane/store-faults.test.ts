// Store fault suite (bounded, no network namespaces): a writer SIGKILLed at random points loses no
// acknowledged write and leaves no half resource; a corrupt or truncated file stops the start with its
// name, its resource and the fix, losing nothing; a full disk fails the write with a clear error to
// kubectl and `shoal apply` while the previous object stays stored and served.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rename, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { commandOnlyResolver } from "./controllers/containers.js";
import { startDaemon } from "./daemon.js";
import { RecordingRuntime } from "./runtime-port.js";
import type { AckedWrite, DiskFullReport, Run } from "./store-faults-child.js";
import { configMap, prng, sha } from "./store-faults-child.js";
import { ResourceStore } from "./store.js";

const CHILD = fileURLToPath(new URL("./store-faults-child.js", import.meta.url));
/** At least MIN rounds; more, up to MAX, while the time budget lasts (the suite stays bounded). */
const KILL_ROUNDS = { MIN: 5, MAX: 30 };
const KILL_BUDGET_MS = 25_000;

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-store-faults-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the writer until it has been up `killAfterMs`, SIGKILLs it, and returns what it acknowledged. */
async function writeUntilKilled(dir: string, seed: number, killAfterMs: number): Promise<AckedWrite[]> {
  const child = spawn(process.execPath, [CHILD, "writer", dir, String(seed)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let armed = false;
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
    if (!armed && out.startsWith("ready\n")) {
      armed = true;
      setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    }
  });
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  // A watchdog: the writer is killed even if it never gets ready.
  const watchdog = setTimeout(() => child.kill("SIGKILL"), 10_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) =>
    child.once("close", (c, s) => r([c, s])),
  );
  clearTimeout(watchdog);
  assert.equal(signal, "SIGKILL", `the writer ended by itself (code ${code}): ${err}`);
  return out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as AckedWrite);
}

test("a writer SIGKILLed at random points loses no acknowledged write and leaves no half resource", async () => {
  await withDir(async (dir) => {
    const seed = Number(process.env["SHOAL_FAULT_SEED"] ?? Date.now() % 1_000_000);
    const rand = prng(seed);
    const started = performance.now();
    /** What each ConfigMap must be after every acknowledged write: its version and checksum, or absent. */
    const expected = new Map<string, { rv: number; sum: string | undefined } | "absent">();
    const stateOf = (store: ResourceStore, name: string) => {
      const cm = store.get({ kind: "ConfigMap", namespace: "foo", name });
      return cm
        ? { rv: Number(cm.metadata.resourceVersion), sum: (cm["data"] as { sum: string }).sum }
        : ("absent" as const);
    };
    let acked = 0;
    let maxAckedRv = 0;
    let rounds = 0;
    for (
      ;
      rounds < KILL_ROUNDS.MIN || (rounds < KILL_ROUNDS.MAX && performance.now() - started < KILL_BUDGET_MS);
      rounds++
    ) {
      const lines = await writeUntilKilled(dir, seed + rounds, Math.floor(rand() * 300));
      // The one write in flight when the kill landed (announced, never acknowledged) may or may not
      // have become durable; every other ConfigMap must be exactly as last acknowledged.
      let inFlight: string | undefined;
      for (const w of lines) {
        if (w.op === "intent") {
          inFlight = w.name;
          continue;
        }
        inFlight = undefined;
        acked += 1;
        maxAckedRv = Math.max(maxAckedRv, Number(w.rv));
        expected.set(w.name, w.op === "delete" ? "absent" : { rv: Number(w.rv), sum: w.sum });
      }
      const at = `seed ${seed}, round ${rounds}`;
      // Reopening finds a consistent store: every file whole (no STORE_CORRUPT), no temp file left.
      const store = await ResourceStore.open(dir);
      assert.ok(!(await readdir(store.resourceDir)).some((f) => f.endsWith(".tmp")), at);
      const versions = new Set<string>();
      for (const cm of store.list({ kind: "ConfigMap" })) {
        const data = cm["data"] as { body: string; sum: string };
        assert.equal(sha(data.body), data.sum, `${at}: ${cm.metadata.name} is whole`);
        assert.ok(!versions.has(cm.metadata.resourceVersion!), `${at}: versions never repeat`);
        versions.add(cm.metadata.resourceVersion!);
      }
      for (const [name, want] of expected) {
        const got = stateOf(store, name);
        if (name !== inFlight) {
          assert.deepEqual(got, want, `${at}: ${name} as last acknowledged`);
        } else if (got !== "absent" && (want === "absent" || got.rv !== want.rv)) {
          // Either the acknowledged state or the unacknowledged write, which is newer than any ack.
          assert.ok(got.rv > maxAckedRv, `${at}: ${name} at ${got.rv} is neither acknowledged nor newer`);
        }
      }
      if (inFlight) expected.set(inFlight, stateOf(store, inFlight));
      // The next version handed out is above every version ever acknowledged (deletes included).
      assert.ok(
        store.resourceVersion >= maxAckedRv,
        `${at}: store at ${store.resourceVersion} < ${maxAckedRv}`,
      );
    }
    const probe = await (await ResourceStore.open(dir)).put(configMap("probe", "p"));
    assert.ok(Number(probe.resource.metadata.resourceVersion) > maxAckedRv);
    assert.ok(acked > 0, "some writes were acknowledged");
    console.log(`store kill -9: seed ${seed}, ${rounds} rounds, ${acked} acknowledged writes, all found`);
  });
});

test("a truncated, empty or foreign resource file stops the start with its name, resource and fix; nothing is lost", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    for (const n of ["a", "b", "c", "d"]) await s.put(configMap(n, `body-${n}`));
    const fileOf = (n: string) => join(s.resourceDir, `ConfigMap_foo_${n}.json`);
    const intact = await readFile(fileOf("a"), "utf8");
    const stat = await readFile(fileOf("b"), "utf8");
    await truncate(fileOf("b"), Math.floor(stat.length / 2)); // torn in the middle
    await writeFile(fileOf("c"), ""); // truncated to nothing
    await writeFile(fileOf("d"), JSON.stringify(configMap("zzz", "x"))); // another resource's content
    await assert.rejects(ResourceStore.open(dir), (err: Error) => {
      assert.ok(isShoalError(err, "STORE_CORRUPT"), String(err));
      assert.match(err.message, /3 unreadable files/);
      assert.ok(err.message.includes(`${fileOf("b")} (ConfigMap foo/b): not valid JSON`), err.message);
      assert.ok(err.message.includes(`${fileOf("c")} (ConfigMap foo/c): the file is empty`), err.message);
      assert.ok(err.message.includes(`${fileOf("d")} (ConfigMap foo/d): the file holds ConfigMap foo/zzz`));
      assert.ok(err.message.includes(`mv ${fileOf("b")} ${fileOf("b")}.bad`), err.message);
      return true;
    });
    // The start (the daemon, as `shoal up` runs it) stops with the same message and touches nothing.
    const daemonStart = startDaemon({
      stateDir: dir,
      runtime: new RecordingRuntime(),
      resolve: commandOnlyResolver,
      clusterId: "sf2",
      log: () => {},
    });
    await assert.rejects(daemonStart, /STORE_CORRUPT|unreadable file[\s\S]*ConfigMap foo\/b/);
    assert.equal(await readFile(fileOf("a"), "utf8"), intact);
    // Following the fix (each bad file moved aside) brings everything else back.
    for (const n of ["b", "c", "d"]) await rename(fileOf(n), `${fileOf(n)}.bad`);
    const s2 = await ResourceStore.open(dir);
    assert.deepEqual(
      (s2.get({ kind: "ConfigMap", namespace: "foo", name: "a" })?.["data"] as { body: string }).body,
      "body-a",
    );
    assert.deepEqual(
      s2.list({ kind: "ConfigMap" }).map((r) => r.metadata.name),
      ["a"],
    );
  });
});

test("a corrupt version counter stops the start naming it", async () => {
  await withDir(async (dir) => {
    const s = await ResourceStore.open(dir);
    await s.put(configMap("a", "x"));
    await s.delete({ kind: "ConfigMap", namespace: "foo", name: "a" });
    await writeFile(join(dir, "resource-version"), "12garbage");
    await assert.rejects(ResourceStore.open(dir), (err: Error) => {
      assert.ok(err.message.includes(`${join(dir, "resource-version")}: not a version number`), err.message);
      return true;
    });
  });
});

const asRoot = process.getuid?.() === 0;
const hasUnshare = spawnSync("unshare", ["--help"]).status === 0;
const diskSkip = !asRoot
  ? "SKIPPED: the disk-full test needs root (it mounts a 256 KiB tmpfs in a private mount namespace)"
  : !hasUnshare
    ? "SKIPPED: the disk-full test needs unshare (util-linux)"
    : false;
if (diskSkip) console.log(`store-faults: ${diskSkip}`);

test(
  "disk full: kubectl and shoal apply get a clear error naming the store, the previous object stays",
  { skip: diskSkip },
  async () => {
    await withDir(async (dir) => {
      const stateDir = join(dir, "state");
      const resources = join(stateDir, "resources");
      // The mount lives in the child's private mount namespace: it goes away with the child, even on a crash.
      const script = `set -e; mkdir -p "$1"; mount -t tmpfs -o size=256k,mode=0700 shoal-store-faults "$1"; exec "$2" "$3" diskfull "$4"`;
      const child = spawn(
        "unshare",
        [
          "-m",
          "--propagation",
          "private",
          "sh",
          "-c",
          script,
          "sh",
          resources,
          process.execPath,
          CHILD,
          stateDir,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      const watchdog = setTimeout(() => child.kill("SIGKILL"), 50_000);
      const code = await new Promise<number | null>((r) => child.once("close", r));
      clearTimeout(watchdog);
      assert.equal(code, 0, `disk-full child failed: ${err}`);
      const o = JSON.parse(out.trim().split("\n").at(-1)!) as DiskFullReport;
      const run = (k: string): Run => {
        const r = o.runs[k];
        assert.ok(r, `no run ${k}`);
        return r;
      };
      const fullError = (k: string, what: string) => {
        const r = run(k);
        assert.notEqual(r.code, 0, `${what} must fail: ${r.stdout}`);
        assert.match(r.stderr, /no space left on device/, what);
        assert.ok(r.stderr.includes(resources), `${what} names the store path: ${r.stderr}`);
        assert.match(r.stderr, /ConfigMap foo\/(cm|other)/, what);
      };
      assert.equal(o.resourceDir, resources);
      assert.equal(run("createNs").code, 0, run("createNs").stderr);
      assert.equal(run("small").code, 0, run("small").stderr);
      fullError("bigKubectl", "kubectl apply of an object larger than the disk");
      fullError("bigShoal", "shoal apply of an object larger than the disk");
      fullError("smallFullKubectl", "kubectl apply of an update on a full disk");
      fullError("smallFullShoal", "shoal apply of an update on a full disk");
      fullError("newFullKubectl", "kubectl apply of a new object on a full disk");
      for (const k of ["servedAfterBig", "servedWhenFull", "reopenedWhenFull"])
        assert.equal(o.served[k]?.body, "v1", `${k}: the previous object is kept`);
      assert.equal(run("getWhenFull").stdout, "v1");
      const files = o.filesWhenFull;
      assert.ok(files.includes("ConfigMap_foo_cm.json"), files.join(" "));
      assert.ok(!files.includes("ConfigMap_foo_other.json"), "the refused object was not stored");
      assert.ok(!files.some((f) => f.endsWith(".tmp")), `no temp file left: ${files.join(" ")}`);
      assert.equal(run("afterFree").code, 0, run("afterFree").stderr);
      assert.equal(o.served["servedAfterFree"]?.body, "v4");
    });
  },
);
