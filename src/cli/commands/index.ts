// The list of `shoal` commands: the words that select each and its one-line summary, with the module that
// implements it imported only when it runs (so `shoal --help` and every command start without loading the
// others). Each command lives in its own module.
import type { CommandEntry } from "../io.js";

export const COMMANDS: CommandEntry[] = [
  {
    path: ["up"],
    summary: "Start the local cluster (daemon) for a state directory",
    load: async () => (await import("./up.js")).upCommand,
  },
  {
    path: ["down"],
    summary: "Stop the local cluster (--purge also deletes its stored resources)",
    load: async () => (await import("./down.js")).downCommand,
  },
  {
    path: ["apply"],
    summary: "Create or update resources from manifests (all or nothing)",
    load: async () => (await import("./apply.js")).applyCommand,
  },
  {
    path: ["get"],
    summary: "List resources or show one",
    load: async () => (await import("./get.js")).getCommand,
  },
  {
    path: ["delete"],
    summary: "Delete resources named in manifests or by kind and name",
    load: async () => (await import("./delete.js")).deleteCommand,
  },
  {
    path: ["create", "namespace"],
    summary: "Create a namespace",
    load: async () => (await import("./create-namespace.js")).createNamespaceCommand,
  },
  {
    path: ["label"],
    summary: "Add, change or remove labels of a resource",
    load: async () => (await import("./label.js")).labelCommand,
  },
  {
    path: ["rollout", "restart"],
    summary: "Restart a deployment's pods (all deployments of the namespace when no NAME)",
    load: async () => (await import("./rollout-restart.js")).rolloutRestartCommand,
  },
  {
    path: ["exec"],
    summary: "Run a command inside a pod's network namespace",
    load: async () => (await import("./exec.js")).execCommand,
  },
  {
    path: ["logs"],
    summary: "Print a container's logs",
    load: async () => (await import("./logs.js")).logsCommand,
  },
  {
    path: ["analyze"],
    summary: "analyze manifests for problems, like istioctl analyze",
    load: async () => (await import("./analyze.js")).analyzeCommand,
  },
  {
    path: ["kube-inject"],
    summary: "add the sidecar to manifests, like istioctl kube-inject",
    load: async () => (await import("./kube-inject.js")).kubeInjectCommand,
  },
  {
    path: ["x", "authz", "check"],
    summary: "what-if: would this request be allowed, and which rule decided",
    load: async () => (await import("./authz-check.js")).authzCheckCommand,
  },
  {
    path: ["x", "route", "check"],
    summary: "what-if: where would this request go, and which route decided",
    load: async () => (await import("./route-check.js")).routeCheckCommand,
  },
  {
    path: ["x", "ca", "status"],
    summary: "Show the mesh roots, any root rotation in progress, and which root each proxy's leaf is under",
    load: async () => (await import("./ca.js")).caStatusCommand,
  },
  {
    path: ["x", "ca", "rotate-root"],
    summary: "Replace the mesh root without dropping a connection (trust both, re-issue, drop the old)",
    load: async () => (await import("./ca.js")).caRotateRootCommand,
  },
  {
    path: ["x", "mesh-config"],
    summary: "Show the mesh-wide settings (meshConfig) the cluster runs with",
    load: async () => (await import("./mesh-config.js")).meshConfigCommand,
  },
  {
    path: ["x", "mtls-report"],
    summary: "Which clients still send plaintext, and whether STRICT mTLS is safe per workload",
    load: async () => (await import("./mtls-report.js")).mtlsReportCommand,
  },
  {
    path: ["dashboard"],
    summary: "Open the mesh dashboard (graph, workloads, what-if, mTLS report) on loopback",
    load: async () => (await import("./dashboard.js")).dashboardCommand,
  },
  {
    path: ["dashboard", "prometheus"],
    summary: "Run Prometheus scraping every proxy's metrics (PromQL on loopback)",
    load: async () => (await import("./dashboard.js")).dashboardPrometheusCommand,
  },
  {
    path: ["proxy-status"],
    aliases: [["ps"]],
    summary: "Show each proxy's config sync state with the control plane",
    load: async () => (await import("./proxy-status.js")).proxyStatusCommand,
  },
  {
    path: ["proxy-config"],
    aliases: [["pc"]],
    summary: "show a sidecar's clusters, listeners, endpoints or certificates",
    load: async () => (await import("./proxy-config.js")).proxyConfigCommand,
  },
  {
    path: ["kubeconfig"],
    summary: "Print a kubeconfig for the running cluster's Kubernetes API",
    load: async () => (await import("./kubeconfig.js")).kubeconfigCommand,
  },
  {
    path: ["install"],
    summary: "Install the gateways of an Istio profile or IstioOperator (like istioctl install)",
    load: async () => (await import("./install.js")).installCommand,
  },
  {
    path: ["uninstall"],
    summary: "Remove the gateways shoal install created",
    load: async () => (await import("./uninstall.js")).uninstallCommand,
  },
  {
    path: ["manifest", "generate"],
    summary: "Print (or write to a directory) the gateway manifests of an IstioOperator",
    load: async () => (await import("./manifest.js")).manifestGenerateCommand,
  },
];
