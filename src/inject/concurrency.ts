// Istio's `concurrency` for a gateway proxy (pure): the pod's `proxy.istio.io/config` fragment, else the
// mesh's `defaultConfig`, else unset (the proxy's own default). Sidecars are always one process; this is
// read for gateway pods only.
import { PROXY_CONFIG_ANNOTATION, readProxyConfigAnnotation } from "../api/proxy-annotations.js";
import { MAX_WORKERS } from "../proxy/workers/count.js";

const isConcurrency = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;

/**
 * The concurrency a gateway pod asks for, or undefined when neither the pod nor the mesh sets it.
 * Istio: the pod's proxy.istio.io/config overrides meshConfig.defaultConfig field by field.
 * A fragment that cannot be read was refused on apply; one stored anyway sets nothing here.
 */
export function gatewayConcurrency(
  annotations: Readonly<Record<string, string>> | undefined,
  meshDefaultConfig: unknown,
): number | undefined {
  const text = annotations?.[PROXY_CONFIG_ANNOTATION];
  const fromPod = text === undefined ? undefined : readProxyConfigAnnotation(text).concurrency;
  if (fromPod !== undefined) return fromPod;
  const fromMesh =
    typeof meshDefaultConfig === "object" && meshDefaultConfig !== null
      ? (meshDefaultConfig as Record<string, unknown>)["concurrency"]
      : undefined;
  return isConcurrency(fromMesh) ? fromMesh : undefined;
}

/**
 * The proxy's `--workers` value for a concurrency. Istio: 0 means one worker thread per core; unset means
 * the default. Shoal: N ≥ 1 → N processes (capped), 1 = one process; 0 → `--workers 0`, which the proxy
 * resolves to one per CPU of the machine it runs on.
 */
export function workersArg(concurrency: number | undefined): string[] {
  if (concurrency === undefined) return [];
  return ["--workers", String(Math.min(concurrency, MAX_WORKERS))];
}
