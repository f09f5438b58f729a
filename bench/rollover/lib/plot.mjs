// An SVG chart of failed requests over time around SIGTERM, one line per scenario,
// all rollovers of a run summed on a common time axis (0 = the SIGTERM).

const FROM_MS = -1000;
const TO_MS = 7000;
const BIN_MS = 100;
const COLORS = ["#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#2ca02c", "#1f77b4", "#e377c2", "#7f7f7f"];

/**
 * @param {{ startedAt: number, records: { at: number, kind: string }[], rollovers: { sigtermAt: number }[] }} outcome
 * @returns {{ bins: number[] }} failures per 100 ms bin from -1 s to +7 s
 */
export function failuresAroundSigterm(outcome) {
  const sigterms = outcome.rollovers.map((r) => r.sigtermAt).sort((a, b) => a - b);
  const bins = new Array((TO_MS - FROM_MS) / BIN_MS).fill(0);
  for (const record of outcome.records) {
    if (record.kind === "ok") continue;
    // The last SIGTERM the request can belong to (a request up to 1 s early counts too).
    const sigterm = sigterms.filter((t) => t + FROM_MS <= record.at).pop();
    if (sigterm === undefined) continue;
    const bin = Math.floor((record.at - sigterm - FROM_MS) / BIN_MS);
    if (bin >= 0 && bin < bins.length) bins[bin] += 1;
  }
  return { bins };
}

/** @param {{ label: string, bins: number[] }[]} series */
export function plotSvg(series, title) {
  const width = 860;
  const height = 400;
  const left = 60;
  const right = 250;
  const top = 40;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const peak = Math.max(1, ...series.flatMap((s) => s.bins));
  const yMax = niceCeiling(peak);
  const x = (ms) => left + ((ms - FROM_MS) / (TO_MS - FROM_MS)) * plotW;
  const y = (count) => top + plotH - (count / yMax) * plotH;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14">${escape(title)}</text>`,
  ];
  for (let ms = FROM_MS; ms <= TO_MS; ms += 1000) {
    out.push(`<line x1="${x(ms)}" y1="${top}" x2="${x(ms)}" y2="${top + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${x(ms)}" y="${top + plotH + 16}" text-anchor="middle">${ms / 1000} s</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const count = (yMax * i) / 4;
    out.push(`<line x1="${left}" y1="${y(count)}" x2="${left + plotW}" y2="${y(count)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${y(count) + 4}" text-anchor="end">${count}</text>`);
  }
  out.push(`<line x1="${x(0)}" y1="${top}" x2="${x(0)}" y2="${top + plotH}" stroke="black" stroke-dasharray="4 3"/>`);
  out.push(`<text x="${x(0) + 4}" y="${top + 12}">SIGTERM</text>`);
  out.push(`<text x="${left + plotW / 2}" y="${height - 12}" text-anchor="middle">time from SIGTERM</text>`);
  out.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">failed requests per 100 ms</text>`);
  series.forEach((s, index) => {
    const color = COLORS[index % COLORS.length];
    const points = s.bins.flatMap((count, bin) => {
      const start = FROM_MS + bin * BIN_MS;
      return [`${x(start).toFixed(1)},${y(count).toFixed(1)}`, `${x(start + BIN_MS).toFixed(1)},${y(count).toFixed(1)}`];
    });
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points.join(" ")}"/>`);
    const total = s.bins.reduce((a, b) => a + b, 0);
    const ly = top + 10 + index * 20;
    out.push(`<line x1="${left + plotW + 16}" y1="${ly}" x2="${left + plotW + 36}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${left + plotW + 42}" y="${ly + 4}">${escape(`${s.label} (${total})`)}</text>`);
  });
  out.push("</svg>", "");
  return out.join("\n");
}

function niceCeiling(value) {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 4, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function escape(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
