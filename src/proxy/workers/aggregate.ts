// The stats of a gateway with workers: the sum over its workers' exports, as one ProxyStats whose text and
// Prometheus renderings are exactly a single proxy's. Counters are added; histograms merged bucket by
// bucket (same bounds everywhere: Istio's defaults). There are no gauges to combine today.
import { ProxyStats } from "../stats.js";
import type { StatsExport } from "../stats.js";

export function sumStats(parts: readonly StatsExport[]): ProxyStats {
  const total = new ProxyStats();
  for (const p of parts) total.absorb(p);
  return total;
}
