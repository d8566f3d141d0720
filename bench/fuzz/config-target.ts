import type { TargetResult } from "./report.js";
export async function fuzzConfig(_seed: number, _seconds: number): Promise<TargetResult> {
  return { target: "config", inputs: 0, findings: [], notes: [] };
}
