// The dashboard's data from a running cluster: everything read through the daemon on each refresh, rates
// from the previous reading, what-if over the resources the daemon holds now.
import type { DaemonClient } from "../cli/daemon-client.js";
import { observeCluster } from "../observe/collect.js";
import type { Readings } from "../observe/mesh-graph.js";
import type { DashboardSource } from "./server.js";
import { dashboardState } from "./state.js";
import { whatIf } from "./what-if.js";

export function clusterSource(client: DaemonClient, windowMs = 600_000): DashboardSource {
  let readings: Readings | undefined;
  return {
    async state() {
      const [seen, status] = await Promise.all([observeCluster(client), client.proxyStatus()]);
      const built = dashboardState(seen, status, windowMs, readings);
      readings = built.readings;
      return built.state;
    },
    async whatIf(q) {
      return whatIf(await client.list({}), q);
    },
  };
}
