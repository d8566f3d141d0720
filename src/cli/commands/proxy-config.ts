// `shoal proxy-config cluster|listener|endpoint|secret|all POD[.NS]`: what a pod's sidecar runs now,
// read live from the proxy and printed in istioctl's shapes.
import { parseArgs } from "node:util";
import type { ClusterFilter, ProxyConfigSection } from "../proxy-config-format.js";
import { formatSection, sectionJson } from "../proxy-config-format.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { podNameArg } from "./exec.js";

const SECTIONS: ProxyConfigSection[] = ["cluster", "listener", "endpoint", "secret", "all"];
const ALIASES: Record<string, ProxyConfigSection> = {
  cluster: "cluster",
  clusters: "cluster",
  c: "cluster",
  listener: "listener",
  listeners: "listener",
  l: "listener",
  endpoint: "endpoint",
  endpoints: "endpoint",
  ep: "endpoint",
  secret: "secret",
  secrets: "secret",
  s: "secret",
  all: "all",
};

const USAGE = `Usage: shoal proxy-config (or pc) ${SECTIONS.join("|")} POD[.NAMESPACE] [-n NAMESPACE] [-o json] [--revision REV]
         [--direction inbound|outbound] [--fqdn HOST] [--port N] [--subset NAME]

Reads the configuration the pod's sidecar runs now and prints it the way istioctl proxy-config does.`;

/** `tcp-echo-5d8.foo` → pod and namespace; a bare name takes -n (default: default). */
export function splitPodNamespace(
  arg: string,
  namespace: string | undefined,
): { pod: string; namespace: string } {
  const name = podNameArg(arg);
  const dot = name.indexOf(".");
  if (dot > 0 && namespace === undefined) return { pod: name.slice(0, dot), namespace: name.slice(dot + 1) };
  return { pod: name, namespace: namespace ?? "default" };
}

export const proxyConfigCommand: Command = {
  path: ["proxy-config"],
  summary: "show a sidecar's clusters, listeners, endpoints or certificates",
  usage: USAGE,
  async run(args, io) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        namespace: { type: "string", short: "n" },
        output: { type: "string", short: "o" },
        direction: { type: "string" },
        // istioctl compatibility: Shoal runs one control plane, so any revision is it.
        revision: { type: "string" },
        fqdn: { type: "string" },
        port: { type: "string" },
        subset: { type: "string" },
      },
      allowPositionals: true,
      strict: true,
    });
    const section = ALIASES[positionals[0] ?? ""];
    if (!section) throw new UsageError(`the first argument is one of ${SECTIONS.join(", ")}`);
    if (positionals.length !== 2) throw new UsageError("exactly one POD[.NAMESPACE] is required");
    if (values.direction !== undefined && values.direction !== "inbound" && values.direction !== "outbound")
      throw new UsageError(`--direction must be inbound or outbound, not "${values.direction}"`);
    if (values.output !== undefined && values.output !== "json")
      throw new UsageError(`unknown output format "${values.output}" (use json)`);
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
      throw new UsageError(`--port: "${values.port}" is not a port`);
    const filter: ClusterFilter = {
      direction: values.direction as ClusterFilter["direction"],
      fqdn: values.fqdn,
      port,
      subset: values.subset,
    };
    const target = splitPodNamespace(positionals[1]!, values.namespace);
    const client = new DaemonClient();
    const config = await client.proxyConfig(target.namespace, target.pod);
    const certificates =
      section === "secret" || section === "all"
        ? await client.proxyCertificates(target.namespace, target.pod)
        : undefined;
    if (values.output === "json")
      io.stdout(`${JSON.stringify(sectionJson(config, section, certificates, filter), null, 2)}\n`);
    else io.stdout(formatSection(config, section, certificates, filter, port));
    return 0;
  },
};
