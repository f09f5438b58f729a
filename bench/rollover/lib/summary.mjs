// Turns raw per-request records and per-rollover results into the numbers of one table row.

/**
 * @param {{ kind: string, latencyMs: number }[]} records
 * @param {{ sigtermToExitMs: number, killed: boolean }[]} rollovers
 */
export function summarize(records, rollovers) {
  const failures = records.filter((r) => r.kind !== "ok");
  /** @type {Record<string, number>} */
  const byKind = {};
  for (const { kind } of failures) byKind[kind] = (byKind[kind] ?? 0) + 1;
  const latencies = records
    .filter((r) => r.kind === "ok")
    .map((r) => r.latencyMs)
    .sort((a, b) => a - b);
  const stopTimes = rollovers.map((r) => r.sigtermToExitMs).sort((a, b) => a - b);
  return {
    requests: records.length,
    failed: failures.length,
    byKind,
    failurePercent: records.length === 0 ? 0 : (100 * failures.length) / records.length,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP99Ms: percentile(latencies, 0.99),
    sigtermToExitP50Ms: percentile(stopTimes, 0.5),
    sigtermToExitMeanMs: stopTimes.length === 0 ? null : stopTimes.reduce((sum, ms) => sum + ms, 0) / stopTimes.length,
    sigtermToExitMaxMs: stopTimes.length === 0 ? null : stopTimes[stopTimes.length - 1],
    sigkills: rollovers.filter((r) => r.killed).length,
  };
}

/** "412 reset, 3 closed" — or "" when nothing failed. */
export function describeKinds(byKind) {
  return Object.entries(byKind)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${count} ${kind}`)
    .join(", ");
}

/** Nearest-rank percentile of an ascending array; null when empty. */
function percentile(sorted, fraction) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)];
}
