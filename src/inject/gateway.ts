// Istio's `gateway` injection template (pure): a pod annotated `inject.istio.io/templates: gateway` whose
// `istio-proxy` container says `image: auto` gets the proxy as that container, in router mode — no
// init container, no traffic capture; the proxy listens on the ports of the Gateway servers that select
// the pod. This is how Istio's gateway Helm chart and `istioctl manifest generate` deploy gateways.
import type { ContainerLike, PodTemplateLike } from "./sidecar.js";
import {
  PROXY_CONTAINER,
  PROXY_IMAGE,
  STATUS_ANNOTATION,
  proxyReadinessProbe,
  proxySecurityContext,
} from "./sidecar.js";

export const TEMPLATES_ANNOTATION = "inject.istio.io/templates";
export const GATEWAY_TEMPLATE = "gateway";
/** The proxy container's arguments in router (gateway) mode, as Istio's gateway template writes them. */
export const ROUTER_ARGS = ["proxy", "router"] as const;

/** True when the pod asks for the gateway template. */
export function wantsGatewayTemplate(template: PodTemplateLike): boolean {
  const t = template.metadata?.annotations?.[TEMPLATES_ANNOTATION] ?? "";
  return t
    .split(",")
    .map((s) => s.trim())
    .includes(GATEWAY_TEMPLATE);
}

/** True when a pod spec runs its proxy as a gateway (router mode). */
export function isGatewayProxy(spec: { containers?: ReadonlyArray<ContainerLike> } | undefined): boolean {
  const c = spec?.containers?.find((x) => x.name === PROXY_CONTAINER);
  const args = c?.["args"];
  return Array.isArray(args) && args[0] === ROUTER_ARGS[0] && args[1] === ROUTER_ARGS[1];
}

function fieldEnv(name: string, fieldPath: string) {
  return { name, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath } } };
}

/** The template with the gateway proxy filled in; unchanged when it has no `istio-proxy` with `image: auto`
 *  (Istio leaves such pods alone) or was injected already. */
export function injectGateway<T extends PodTemplateLike>(template: T, workload: string): T {
  const out = structuredClone(template);
  const spec = out.spec ?? {};
  const i = (spec.containers ?? []).findIndex((c) => c.name === PROXY_CONTAINER);
  const mine = i >= 0 ? spec.containers![i]! : undefined;
  if (!mine || mine.image !== "auto" || isGatewayProxy(spec)) return out;
  const metadata = (out.metadata ??= {});
  const labels = metadata.labels ?? {};
  const userEnv = Array.isArray(mine["env"]) ? (mine["env"] as unknown[]) : [];
  spec.containers![i] = {
    ...mine,
    image: PROXY_IMAGE,
    args: [...ROUTER_ARGS],
    env: [
      fieldEnv("POD_NAME", "metadata.name"),
      fieldEnv("POD_NAMESPACE", "metadata.namespace"),
      fieldEnv("INSTANCE_IP", "status.podIP"),
      fieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"),
      { name: "ISTIO_META_WORKLOAD_NAME", value: workload },
      ...userEnv,
    ],
    readinessProbe: proxyReadinessProbe(),
    securityContext: proxySecurityContext(),
  };
  metadata.labels = {
    ...labels,
    "service.istio.io/canonical-name":
      labels["service.istio.io/canonical-name"] ?? labels["app"] ?? labels["istio"] ?? workload,
    "service.istio.io/canonical-revision": labels["service.istio.io/canonical-revision"] ?? "latest",
  };
  metadata.annotations = {
    ...(metadata.annotations ?? {}),
    [STATUS_ANNOTATION]: JSON.stringify({
      initContainers: null,
      containers: [PROXY_CONTAINER],
      volumes: [],
      imagePullSecrets: null,
      revision: "default",
    }),
  };
  return out;
}
