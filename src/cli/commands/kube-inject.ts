// `shoal kube-inject`: prints manifests with the sidecar added to Pods and Deployment pod templates, like
// `istioctl kube-inject`, so `shoal kube-inject -f x.yaml | shoal apply -f - -n foo` works offline.
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { formatPath } from "../../api/diagnostic.js";
import { isShoalError } from "../../api/errors.js";
import { captureOptionsFromPod } from "../../inject/capture-options.js";
import { injectRequired } from "../../inject/policy.js";
import type { PodTemplateLike } from "../../inject/sidecar.js";
import { injectPodSpec } from "../../inject/sidecar.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { readManifestInputs } from "../manifest-input.js";

const USAGE = `Usage: shoal kube-inject -f FILE|DIR|- [-f ...] [-o yaml|json]

Prints the manifests with the Istio sidecar (istio-init and istio-proxy) added to every Pod and to every
Deployment's pod template; other resources are printed unchanged. Pods that opt out with the label or
annotation sidecar.istio.io/inject: "false", and manifests already injected, are left as they are.
Istio's capture annotations (traffic.sidecar.istio.io/includeInboundPorts, excludeInboundPorts,
includeOutboundIPRanges, excludeOutboundIPRanges, excludeOutboundPorts) are honoured.

  -f, --filename   file, directory (searched recursively) or - for stdin; repeatable
  -o, --output     yaml (default: multi-document YAML) or json

Example: shoal kube-inject -f samples/tcp-echo/tcp-echo.yaml | shoal apply -f - -n foo`;

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Where the pod template sits in each kind kube-inject changes. */
const TEMPLATE_PATHS: Record<string, string[]> = { Pod: [], Deployment: ["spec", "template"] };

/** The document with its pod template injected; errors name the resource and the field. */
export function injectDocument(doc: unknown): { object: unknown; error?: string } {
  if (!isRecord(doc) || typeof doc["kind"] !== "string") return { object: doc };
  const path = TEMPLATE_PATHS[doc["kind"]];
  if (path === undefined) return { object: doc };
  const meta = isRecord(doc["metadata"]) ? doc["metadata"] : {};
  const name = `${doc["kind"]} ${typeof meta["name"] === "string" ? meta["name"] : "<unnamed>"}`;
  let template: unknown = doc;
  for (const key of path) template = isRecord(template) ? template[key] : undefined;
  const spec = isRecord(template) ? template["spec"] : undefined;
  if (!isRecord(template) || !isRecord(spec) || !Array.isArray(spec["containers"]))
    return {
      object: doc,
      error: `${name}: ${formatPath([...path, "spec", "containers"])} must be a list of containers`,
    };
  const t = template as PodTemplateLike;
  // Istio: kube-inject applies the injector's policy only (no namespace): opt-outs are respected.
  if (!injectRequired(t.metadata ?? {}, t.spec as { hostNetwork?: boolean }).inject) return { object: doc };
  const injected = injectPodSpec(t, {
    workloadName: typeof meta["name"] === "string" ? meta["name"] : undefined,
  });
  try {
    captureOptionsFromPod(injected);
  } catch (err) {
    if (!isShoalError(err)) throw err;
    return { object: doc, error: `${name}: ${err.message.replace(/^pod [^:]*: /, "")}` };
  }
  if (path.length === 0) return { object: { ...doc, ...injected } };
  const out = structuredClone(doc);
  (out["spec"] as Json)["template"] = injected;
  return { object: out };
}

export const kubeInjectCommand: Command = {
  path: ["kube-inject"],
  summary: "add the sidecar to manifests, like istioctl kube-inject",
  usage: USAGE,
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        output: { type: "string", short: "o" },
      },
      strict: true,
      allowPositionals: false,
    });
    const files = values.filename ?? [];
    if (files.length === 0) throw new UsageError("give at least one -f FILE|DIR|-");
    const format = values.output ?? "yaml";
    if (format !== "yaml" && format !== "json")
      throw new UsageError(`unknown output format "${format}" (use yaml or json)`);
    const input = await readManifestInputs(files, io);
    const errors = input.errors.map(
      (e) => `${e.source ?? e.resource.name}${e.line ? `:${e.line}` : ""}: ${e.message}`,
    );
    const objects: unknown[] = [];
    for (const doc of input.documents) {
      const r = injectDocument(doc.object);
      if (r.error !== undefined) errors.push(`${doc.source}: ${r.error}`);
      objects.push(r.object);
    }
    if (errors.length > 0) {
      for (const e of errors) io.stderr(`error: ${e}\n`);
      return 1;
    }
    if (format === "json") {
      const out = objects.length === 1 ? objects[0] : { apiVersion: "v1", kind: "List", items: objects };
      io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    } else io.stdout(objects.map((o) => stringify(o, { lineWidth: 0 })).join("---\n"));
    return 0;
  },
};
