// Reads a pod's capture settings (pure): the `istio-init` container's istio-iptables arguments when the
// pod has one (what the injector wrote, or what the user edited), else Istio's capture annotations, else
// the defaults. Bad values are errors that name the pod and the value, never a silent default.
import { ShoalError } from "../api/errors.js";
import { parseCidr } from "../api/ip.js";
import type { CaptureOptions } from "../runtime/capture-rules.js";
import { PROXY_SERVED_PORTS, defaultCaptureOptions } from "../runtime/capture-rules.js";
import type { PodTemplateLike } from "./sidecar.js";
import { INIT_CONTAINER, initArgs } from "./sidecar.js";

/** istio-iptables flags, short and long, and the option each one sets. */
const FLAGS: Record<string, string> = {
  "-p": "envoy-port",
  "--envoy-port": "envoy-port",
  "-z": "inbound-capture-port",
  "--inbound-capture-port": "inbound-capture-port",
  "-u": "proxy-uid",
  "--proxy-uid": "proxy-uid",
  "-g": "proxy-gid",
  "--proxy-gid": "proxy-gid",
  "-m": "istio-inbound-interception-mode",
  "--istio-inbound-interception-mode": "istio-inbound-interception-mode",
  "-i": "istio-service-cidr",
  "--istio-service-cidr": "istio-service-cidr",
  "-x": "istio-service-exclude-cidr",
  "--istio-service-exclude-cidr": "istio-service-exclude-cidr",
  "-b": "istio-inbound-ports",
  "--istio-inbound-ports": "istio-inbound-ports",
  "-d": "istio-local-exclude-ports",
  "--istio-local-exclude-ports": "istio-local-exclude-ports",
  "-o": "istio-local-outbound-ports-exclude",
  "--istio-local-outbound-ports-exclude": "istio-local-outbound-ports-exclude",
};

/** Flags that change nothing about the rules (logging). */
const IGNORED = new Set(["--log_output_level", "--log_as_json"]);

/** `--flag=value` and `-f value` pairs → option name → value. */
export function parseInitArgs(args: readonly string[], where: string): Map<string, string> {
  const out = new Map<string, string>();
  const rest = args[0] === "istio-iptables" ? args.slice(1) : args;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (IGNORED.has(flag)) continue;
    const name = FLAGS[flag];
    if (name === undefined)
      throw new ShoalError("INVALID_CAPTURE", `${where}: unknown istio-iptables flag "${arg}"`);
    if (eq > 0) out.set(name, arg.slice(eq + 1));
    else if (i + 1 < rest.length) out.set(name, rest[++i]!);
    else throw new ShoalError("INVALID_CAPTURE", `${where}: flag ${flag} needs a value`);
  }
  return out;
}

function port(text: string, where: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new ShoalError("INVALID_CAPTURE", `${where}: "${text}" is not a port`);
  return n;
}

function id(text: string, where: string): number {
  if (!/^\d+$/.test(text)) throw new ShoalError("INVALID_CAPTURE", `${where}: "${text}" is not a uid/gid`);
  return Number(text);
}

const items = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

function ports(text: string, where: string): number[] {
  return items(text).map((p) => port(p, where));
}

function portsOrAll(text: string, where: string): "*" | number[] {
  return text.trim() === "*" ? "*" : ports(text, where);
}

function cidrs(text: string, where: string): string[] {
  return items(text)
    .map((c) => {
      const cidr = parseCidr(c);
      if (!cidr) throw new ShoalError("INVALID_CAPTURE", `${where}: "${c}" is not a CIDR`);
      // The pod nat table is IPv4 (iptables, not ip6tables): IPv6 ranges have nothing to match there.
      if (cidr.family === 6) return undefined;
      return `${cidr.bytes.join(".")}/${cidr.prefix}`;
    })
    .filter((c): c is string => c !== undefined);
}

function cidrsOrAll(text: string, where: string): "*" | string[] {
  return text.trim() === "*" ? "*" : cidrs(text, where);
}

/** Capture options from istio-iptables arguments; `where` names the pod for error messages. */
export function captureOptionsFromArgs(args: readonly string[], where: string): CaptureOptions {
  const o = defaultCaptureOptions();
  const flags = parseInitArgs(args, where);
  const get = (name: string) => flags.get(name);
  const at = (name: string) => `${where}: istio-iptables --${name}`;
  let v: string | undefined;
  if ((v = get("envoy-port")) !== undefined) o.outboundPort = port(v, at("envoy-port"));
  if ((v = get("inbound-capture-port")) !== undefined) o.inboundPort = port(v, at("inbound-capture-port"));
  if ((v = get("proxy-uid")) !== undefined) o.proxyUid = o.proxyGid = id(v, at("proxy-uid"));
  if ((v = get("proxy-gid")) !== undefined) o.proxyGid = id(v, at("proxy-gid"));
  const mode = get("istio-inbound-interception-mode") ?? "REDIRECT";
  // The local cluster implements REDIRECT only (TPROXY needs mangle rules and IP_TRANSPARENT sockets).
  if (mode !== "REDIRECT")
    throw new ShoalError(
      "INVALID_CAPTURE",
      `${where}: interception mode "${mode}" is not supported by the local cluster (use REDIRECT)`,
    );
  if ((v = get("istio-service-cidr")) !== undefined)
    o.includeOutboundIPRanges = cidrsOrAll(v, at("istio-service-cidr"));
  if ((v = get("istio-service-exclude-cidr")) !== undefined)
    o.excludeOutboundIPRanges = cidrs(v, at("istio-service-exclude-cidr"));
  if ((v = get("istio-inbound-ports")) !== undefined)
    o.includeInboundPorts = portsOrAll(v, at("istio-inbound-ports"));
  // Istio: the proxy's own ports are excluded whatever `-d` says.
  if ((v = get("istio-local-exclude-ports")) !== undefined)
    o.excludeInboundPorts = [
      ...new Set([...PROXY_SERVED_PORTS, ...ports(v, at("istio-local-exclude-ports"))]),
    ];
  if ((v = get("istio-local-outbound-ports-exclude")) !== undefined)
    o.excludeOutboundPorts = ports(v, at("istio-local-outbound-ports-exclude"));
  return o;
}

function argsOf(c: Record<string, unknown>): string[] {
  const { command: cmd, args } = c;
  const list = [cmd, args].flatMap((x) => (Array.isArray(x) ? x : []));
  return list.filter((x): x is string => typeof x === "string");
}

/**
 * The capture options of a pod with a sidecar: its istio-init arguments, or (no istio-init, e.g. a
 * hand-written sidecar) the arguments Istio's injector would derive from the pod's annotations.
 */
export function captureOptionsFromPod(pod: PodTemplateLike): CaptureOptions {
  const where = `pod ${pod.metadata?.["namespace"] ?? "default"}/${pod.metadata?.name ?? "<unnamed>"}`;
  const init = pod.spec?.initContainers?.find((c) => c.name === INIT_CONTAINER);
  return captureOptionsFromArgs(init ? argsOf(init) : initArgs(pod.metadata?.annotations ?? {}), where);
}
