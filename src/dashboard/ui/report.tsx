// The mTLS migration report as a page: the same rows as `shoal x mtls-report`.
import type { MtlsReport } from "../../observe/mtls-report.js";

export function ReportPage(props: { report: MtlsReport; namespace: string }) {
  const rows = props.report.workloads.filter(
    (w) => props.namespace === "" || w.namespace === props.namespace,
  );
  return (
    <section id="mtls-report">
      <h2>mTLS migration</h2>
      <p class="muted">
        Sources seen by each workload's proxy in the last 10 minutes. A workload is safe for STRICT when no
        client sent it plaintext.
      </p>
      <table>
        <thead>
          <tr>
            <th>workload</th>
            <th>mode</th>
            <th>plaintext from</th>
            <th>mTLS from</th>
            <th>STRICT</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((w) => (
            <tr
              key={`${w.namespace}/${w.workload}`}
              data-workload={`${w.namespace}/${w.workload}`}
              data-safe={String(w.safeForStrict)}
            >
              <td>
                {w.workload}.{w.namespace}
              </td>
              <td>
                <span class={`badge ${w.mode}`}>{w.mode}</span>
                <div class="muted">{w.modePolicy ?? "mesh default"}</div>
              </td>
              <td>
                {w.plaintextSources.map((s) => (
                  <div key={s.ip + s.workload}>
                    {s.workload}.{s.namespace} {s.ip} ×{s.count}
                  </div>
                ))}
              </td>
              <td>
                {w.mtlsSources.map((s) => (
                  <div key={s.ip + s.workload}>
                    {s.workload}.{s.namespace} ×{s.count}
                  </div>
                ))}
              </td>
              <td>
                {w.suggestedPolicy === null ? (
                  <span class="badge STRICT">already STRICT</span>
                ) : w.safeForStrict ? (
                  <details>
                    <summary>
                      <span class="badge safe">safe</span>
                    </summary>
                    <pre>{JSON.stringify(w.suggestedPolicy, null, 2)}</pre>
                  </details>
                ) : (
                  <span class="badge unsafe">not safe</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
