// One workload: pods and their proxy's sync state, effective mTLS mode, the AuthorizationPolicies that
// apply, the what-if form and the recent access log lines with denials highlighted.
import { useState } from "preact/hooks";
import type { WhatIfAnswer } from "../what-if.js";
import type { DashboardState, WorkloadView } from "../state.js";

function WhatIf(props: { w: WorkloadView; sources: DashboardState["sources"] }) {
  const w = props.w;
  const [answer, setAnswer] = useState<WhatIfAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Controlled fields: live updates re-render the panel and must not reset what the user typed.
  const [source, setSource] = useState(props.sources[0]?.principal ?? "");
  const [port, setPort] = useState(String(w.ports[0]?.port ?? 80));
  const [method, setMethod] = useState("GET");
  const [path, setPath] = useState("/");
  const text = (set: (v: string) => void) => (ev: Event) => set((ev.target as HTMLInputElement).value);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const res = await fetch("/api/what-if", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        namespace: w.namespace,
        pod: w.pods[0]?.name ?? w.workload,
        port: Number(port),
        principal: source === "" ? null : source,
        method,
        path,
      }),
    });
    const body = (await res.json()) as WhatIfAnswer & { error?: { message: string } };
    if (!res.ok) {
      setAnswer(null);
      setError(body.error?.message ?? `HTTP ${res.status}`);
    } else {
      setError(null);
      setAnswer(body);
    }
  };
  return (
    <div>
      <form class="what-if" id="what-if" onSubmit={submit}>
        <label for="wi-source">source</label>
        <select id="wi-source" name="source" value={source} onChange={text(setSource)}>
          {props.sources.map((s) => (
            <option key={s.label} value={s.principal ?? ""}>
              {s.label}
            </option>
          ))}
        </select>
        <label for="wi-port">port</label>
        <input id="wi-port" name="port" type="number" value={port} onInput={text(setPort)} list="wi-ports" />
        <datalist id="wi-ports">
          {w.ports.map((p) => (
            <option key={p.port} value={String(p.port)}>{`${p.service} (${p.protocol})`}</option>
          ))}
        </datalist>
        <label for="wi-method">method</label>
        <input id="wi-method" name="method" value={method} onInput={text(setMethod)} />
        <label for="wi-path">path</label>
        <input id="wi-path" name="path" value={path} onInput={text(setPath)} />
        <button type="submit">Decide</button>
      </form>
      {error && <p class="error">{error}</p>}
      {answer && (
        <div
          class="result"
          id="what-if-result"
          data-decision={answer.decision}
          data-policy={answer.policy ?? ""}
        >
          <span class={`badge ${answer.decision}`}>{answer.decision}</span>{" "}
          {answer.policy ? (
            <span>
              by <b>{answer.policy}</b>
              {answer.rule !== null ? ` rule ${answer.rule}` : ""}
            </span>
          ) : (
            ""
          )}
          <div class="muted">{answer.reason}</div>
          {answer.rbacDetails && <code>{answer.rbacDetails}</code>}
        </div>
      )}
    </div>
  );
}

export function WorkloadPanel(props: { w: WorkloadView; state: DashboardState }) {
  const w = props.w;
  return (
    <div id="workload" data-workload={w.id}>
      <h2>
        {w.workload}.{w.namespace}
      </h2>
      <p>
        mTLS{" "}
        <span class={`badge ${w.mode}`} id="workload-mode">
          {w.mode}
        </span>{" "}
        <span class="muted">
          {w.modePolicy ? `set by PeerAuthentication ${w.modePolicy}` : "mesh default"}
        </span>
        {w.sidecar ? "" : <span class="badge DISABLE"> no sidecar</span>}
      </p>
      <h3>Pods</h3>
      <table>
        <thead>
          <tr>
            <th>pod</th>
            <th>IP</th>
            <th>ready</th>
            <th>proxy sync</th>
          </tr>
        </thead>
        <tbody>
          {w.pods.map((p) => (
            <tr key={p.name}>
              <td>{p.name}</td>
              <td>{p.ip ?? "–"}</td>
              <td>{p.ready ? "yes" : "no"}</td>
              <td>
                {p.sync ? (
                  <span class={`badge ${p.sync}`}>{p.sync}</span>
                ) : (
                  <span class="muted">no proxy</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>AuthorizationPolicies that apply</h3>
      {w.policies.length === 0 ? (
        <p class="muted">none (every request is allowed)</p>
      ) : (
        <ul id="workload-policies">
          {w.policies.map((p) => (
            <li key={p.policy}>
              <span class={`badge ${p.action === "DENY" ? "DENY" : ""}`}>{p.action}</span> {p.policy}
              {p.dryRun ? " (dry run)" : ""} <span class="muted">{p.why}</span>
            </li>
          ))}
        </ul>
      )}
      <h3>What if…</h3>
      {w.sidecar ? (
        <WhatIf w={w} sources={props.state.sources} />
      ) : (
        <p class="muted">no sidecar: nothing enforces policy here</p>
      )}
      <h3>Recent access log</h3>
      {w.log.length === 0 ? (
        <p class="muted">no lines yet</p>
      ) : (
        <ol class="log" id="workload-log">
          {w.log.map((l, i) => (
            <li key={i} class={l.denied ? "denied" : ""} data-denied={String(l.denied)}>
              {l.pod}: {l.line}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
