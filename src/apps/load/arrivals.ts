// Open-loop arrivals: a Poisson process (exponential gaps) from a seeded generator, so that a
// run's schedule can be repeated and checked.

/** mulberry32: a small, fast, seeded generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Gaps (ms) between arrivals at `ratePerSec` on average: exponentially distributed. */
export function poissonGaps(ratePerSec: number, random: () => number): () => number {
  const meanMs = 1000 / ratePerSec;
  return () => -Math.log(1 - random()) * meanMs;
}

/** When each of `count` arrivals is due (ms after the start); what the open loop follows. */
export function arrivalSchedule(ratePerSec: number, count: number, seed: number): number[] {
  const gap = poissonGaps(ratePerSec, seededRandom(seed));
  const out: number[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) out.push((at += gap()));
  return out;
}
