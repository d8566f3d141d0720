// The mesh graph: cytoscape draws it; a list beside the canvas says the same in text (for screen readers
// and for tests), each edge with its source, target and whether it was mTLS.
import cytoscape from "cytoscape";
import { useEffect, useRef } from "preact/hooks";
import type { MeshGraph } from "../../observe/mesh-graph.js";

const fmt = (n: number | null, unit: string, digits = 1) =>
  n === null ? "–" : `${n.toFixed(digits)}${unit}`;

export function edgeLabel(e: MeshGraph["edges"][number]): string {
  const parts = [`${fmt(e.rate, " rps", 2)}`];
  if (e.errorRate !== null) parts.push(`${fmt(e.errorRate * 100, "% 5xx", 0)}`);
  if (e.p99Ms !== null) parts.push(`p99 ${fmt(e.p99Ms, " ms")}`);
  return `${e.mtls ? "mTLS" : "PLAINTEXT"} · ${parts.join(" · ")}`;
}

export function Graph(props: { graph: MeshGraph; onSelect: (id: string) => void; selected: string | null }) {
  const box = useRef<HTMLDivElement>(null);
  const cy = useRef<cytoscape.Core | null>(null);
  useEffect(() => {
    if (!box.current) return;
    cy.current = cytoscape({
      container: box.current,
      style: [
        {
          selector: "node",
          style: {
            label: "data(label)",
            "background-color": "#3b6fb6",
            color: "#1d2733",
            "font-size": 11,
            "text-valign": "bottom",
            "text-margin-y": 4,
          },
        },
        { selector: "node[!sidecar]", style: { shape: "diamond", "background-color": "#9aa5b1" } },
        { selector: "node:selected", style: { "border-width": 3, "border-color": "#f0a400" } },
        {
          selector: "edge",
          style: {
            width: 2,
            label: "data(label)",
            "font-size": 9,
            "curve-style": "bezier",
            "target-arrow-shape": "triangle",
            "text-rotation": "autorotate",
            "text-background-color": "#fff",
            "text-background-opacity": 0.8,
          },
        },
        {
          selector: "edge[?mtls]",
          style: { "line-color": "#1f8a4c", "target-arrow-color": "#1f8a4c", color: "#17623a" },
        },
        {
          selector: "edge[!mtls]",
          style: {
            "line-color": "#c62828",
            "target-arrow-color": "#c62828",
            "line-style": "dashed",
            color: "#9b1c1c",
          },
        },
      ],
    });
    cy.current.on("tap", "node", (ev) => props.onSelect(ev.target.id()));
    return () => cy.current?.destroy();
  }, []);
  const shape = JSON.stringify([props.graph.nodes.map((n) => n.id), props.graph.edges.map((e) => e.id)]);
  useEffect(() => {
    const c = cy.current;
    if (!c) return;
    const elements = [
      ...props.graph.nodes.map((n) => ({
        group: "nodes" as const,
        data: { id: n.id, label: `${n.workload}.${n.namespace}`, sidecar: n.sidecar },
      })),
      ...props.graph.edges.map((e) => ({
        group: "edges" as const,
        data: { id: e.id, source: e.source, target: e.target, mtls: e.mtls, label: edgeLabel(e) },
      })),
    ];
    const before = c
      .elements()
      .map((el) => el.id())
      .sort()
      .join(",");
    const after = elements
      .map((el) => el.data.id)
      .sort()
      .join(",");
    if (before !== after) {
      c.elements().remove();
      c.add(elements);
      c.layout({ name: "breadthfirst", directed: true, padding: 30, spacingFactor: 1.2 }).run();
    } else for (const el of elements) c.getElementById(el.data.id).data(el.data);
  }, [shape, props.graph]);
  useEffect(() => {
    const c = cy.current;
    if (!c) return;
    c.nodes().unselect();
    if (props.selected) c.getElementById(props.selected).select();
  }, [props.selected, shape]);
  return (
    <div>
      <div id="graph" ref={box} data-graph={JSON.stringify(props.graph)} />
      <div class="legend">
        <span class="mtls">━ mTLS</span>
        <span class="plain">┅ plaintext</span>
        <span>● sidecar</span>
        <span>◆ no sidecar</span>
      </div>
      <h3>Edges</h3>
      <ul class="edges" id="graph-edges" aria-label="edges">
        {props.graph.edges.map((e) => (
          <li key={e.id} data-source={e.source} data-target={e.target} data-mtls={String(e.mtls)}>
            {e.source} → {e.target}: {edgeLabel(e)} ({e.total}{" "}
            {e.protocol === "tcp" ? "connections" : "requests"})
          </li>
        ))}
      </ul>
      <h3>Workloads</h3>
      <ul class="nodes" id="graph-nodes" aria-label="workloads">
        {props.graph.nodes.map((n) => (
          <li key={n.id} data-node={n.id} data-sidecar={String(n.sidecar)}>
            <a href={`#/workload/${n.id}`}>{n.id}</a>
            {n.sidecar ? "" : " (no sidecar)"}
          </li>
        ))}
      </ul>
    </div>
  );
}
