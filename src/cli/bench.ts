/** `sessionpool bench`: the side-by-side benchmark (benchmarks/run.ts); resolves with the exit code. */

export async function runBench(argv: string[]): Promise<number> {
  // Loaded on demand: the benchmarks are not part of the published package (package.json "files").
  let bench: { main(argv: string[]): Promise<number> };
  try {
    bench = await import(new URL('../../benchmarks/run.ts', import.meta.url).href);
  } catch (error) {
    console.error(`sessionpool bench needs the project's benchmarks/ folder (a source checkout): ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  return bench.main(argv);
}
