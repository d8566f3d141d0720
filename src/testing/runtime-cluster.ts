// Builders for hand-made local-cluster states in runtime tests: pods, services and the outside world
// named the way the daemon names them, plus a unique cluster id per test run.
import { randomBytes } from "node:crypto";
import type { ClusterState, ContainerState, PodState, ServiceState } from "../runtime/cluster-state.js";
import { nodeNetnsName, outsideNetnsName, podNetnsName, podVethNames } from "../runtime/names.js";

/** A fresh cluster id such as `t-3fa9c1`, so concurrent test runs never share a name. */
export function testClusterId(tag = "t"): string {
  return `${tag}-${randomBytes(3).toString("hex")}`;
}

export function testPod(
  clusterId: string,
  namespace: string,
  name: string,
  ip: string,
  extra: Partial<PodState> = {},
): PodState {
  return {
    namespace,
    name,
    uid: `${namespace}-${name}`,
    ip,
    labels: { app: name },
    serviceAccount: "default",
    netns: podNetnsName(clusterId, namespace, name),
    ...podVethNames(clusterId, namespace, name),
    hosts: [],
    containers: [],
    captureRules: "",
    ...extra,
  };
}

export function testContainer(
  name: string,
  argv: string[],
  extra: Partial<ContainerState> = {},
): ContainerState {
  return { name, argv, env: {}, restartPolicy: "Always", startOrder: 10, runToCompletion: false, ...extra };
}

export function testService(
  namespace: string,
  name: string,
  clusterIP: string,
  port: number,
  targetPort: number,
  endpoints: string[],
): ServiceState {
  return {
    namespace,
    name,
    clusterIP,
    ports: [{ name: "tcp", port, targetPort, protocol: "TCP" }],
    endpoints,
  };
}

export function testClusterState(
  clusterId: string,
  pods: PodState[],
  services: ServiceState[],
): ClusterState {
  return {
    clusterId,
    nodeNetns: nodeNetnsName(clusterId),
    pods,
    services,
    outside: {
      netns: outsideNetnsName(clusterId),
      hosts: [
        { names: ["example.com", "www.example.com"], ip: "203.0.113.10" },
        { names: ["httpbin.org"], ip: "203.0.113.11" },
      ],
    },
  };
}
