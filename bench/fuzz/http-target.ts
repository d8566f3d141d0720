import type { TargetResult } from "./report.js";
export async function fuzzHttp(_seed: number, _seconds: number): Promise<TargetResult> {
  return { target: "http", inputs: 0, findings: [], notes: [] };
}
