// The dashboard's UI: reads /api/state, then follows /api/events for live updates. Pages: the mesh graph
// with the selected workload beside it (#/workload/NS/NAME), and the mTLS report (#/mtls).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { DashboardState } from "../state.js";
import { Graph } from "./graph.js";
import { ReportPage } from "./report.js";
import { WorkloadPanel } from "./workload.js";

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function App() {
  const [state, setState] = useState<DashboardState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [namespace, setNamespace] = useState("");
  const hash = useHash();
  useEffect(() => {
    fetch("/api/state")
      .then((r) => r.json())
      .then((s: DashboardState) => setState(s))
      .catch((e: Error) => setError(e.message));
    const events = new EventSource("/api/events");
    events.addEventListener("state", (ev) => {
      setState(JSON.parse((ev as MessageEvent).data as string) as DashboardState);
      setError(null);
    });
    events.addEventListener("failure", (ev) =>
      setError((JSON.parse((ev as MessageEvent).data as string) as { message: string }).message),
    );
    return () => events.close();
  }, []);
  const selected = hash.startsWith("#/workload/")
    ? decodeURIComponent(hash.slice("#/workload/".length))
    : null;
  const page = hash === "#/mtls" ? "mtls" : "graph";
  const graph = state
    ? {
        nodes: state.graph.nodes.filter(
          (n) => namespace === "" || n.namespace === namespace || n.id === "unknown/unknown",
        ),
        edges: state.graph.edges.filter(
          (e) =>
            namespace === "" || e.source.startsWith(`${namespace}/`) || e.target.startsWith(`${namespace}/`),
        ),
      }
    : null;
  const w = state?.workloads.find((x) => x.id === selected);
  return (
    <div>
      <header>
        <strong>Shoal</strong>
        <a href="#/" class={page === "graph" ? "active" : ""}>
          Mesh graph
        </a>
        <a href="#/mtls" class={page === "mtls" ? "active" : ""} id="nav-mtls">
          mTLS migration
        </a>
        <span class="spacer" />
        <label>
          namespace{" "}
          <select
            id="namespace"
            value={namespace}
            onChange={(e) => setNamespace((e.target as HTMLSelectElement).value)}
          >
            <option value="">all</option>
            {state?.namespaces.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <span id="updated" data-at={state?.at ?? ""}>
          {state ? `updated ${new Date(state.at).toLocaleTimeString()}` : "loading…"}
        </span>
      </header>
      {error && (
        <p class="error" id="error">
          {error}
        </p>
      )}
      {state && graph && page === "graph" && (
        <main>
          <section>
            <h2>Mesh</h2>
            <Graph
              graph={graph}
              selected={selected}
              onSelect={(id) => (location.hash = `#/workload/${id}`)}
            />
          </section>
          <section>
            {w ? <WorkloadPanel w={w} state={state} /> : <p class="muted">Select a workload in the graph.</p>}
          </section>
        </main>
      )}
      {state && page === "mtls" && (
        <main class="single">
          <ReportPage report={state.report} namespace={namespace} />
        </main>
      )}
    </div>
  );
}

render(<App />, document.getElementById("root")!);
