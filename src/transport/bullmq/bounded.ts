// Waiting for Redis with a bound: BullMQ's and ioredis's graceful closes wait for Redis to answer,
// which a Redis that is gone or hung never does. Close paths wait this way, then let go by force.

/** Resolves with true when `promise` settled within `ms`, false when the time ran out first (never rejects). */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
