// Endpoint-removal lags drawn at random, from a seed: every scenario of a setting
// sees the same sequence of lags, so their stop times can be compared rollover by rollover.

/** mulberry32: a small seeded generator of floats in [0, 1). */
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The lag of rollover i (1-based), uniform in [minMs, maxMs], rounded to 10 ms.
 * @param {{ minMs: number, maxMs: number, seed: number }} spec
 * @returns {(i: number) => number}
 */
export function randomLags({ minMs, maxMs, seed }) {
  const next = seededRandom(seed);
  const drawn = [];
  return (i) => {
    while (drawn.length < i) drawn.push(Math.round((minMs + next() * (maxMs - minMs)) / 10) * 10);
    return drawn[i - 1];
  };
}
