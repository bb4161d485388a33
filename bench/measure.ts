// Wall time and peak RSS of one piece of work in a benchmark child process (sampled every 20 ms, and at the end).
export async function measure<T>(
  work: () => Promise<T>,
): Promise<{ result: T; ms: number; peakRssMiB: number }> {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  try {
    const result = await work();
    return {
      result,
      ms: performance.now() - t0,
      peakRssMiB: Math.round(Math.max(peak, process.memoryUsage().rss) / 1048576),
    };
  } finally {
    clearInterval(sampler);
  }
}
