/** `sessionpool bench`: the side-by-side benchmark (benchmarks/run.ts); resolves with the exit code. */
import { packageModuleURL } from '../../util/module-url.ts';

export async function runBench(argv: string[]): Promise<number> {
  // `bench hosts`: the BullMQ transport across worker processes (needs redis-server), apart from the default run.
  if (argv[0] === 'hosts') {
    const hosts = (await import(packageModuleURL('../../../benchmarks/hosts.ts', import.meta.url))) as { main(argv: string[]): Promise<number> };
    return hosts.main(argv.slice(1));
  }
  // Loaded on demand: the benchmark's modules (and the SDK baseline) cost nothing to other commands.
  const bench = (await import(packageModuleURL('../../../benchmarks/run.ts', import.meta.url))) as { main(argv: string[]): Promise<number> };
  return bench.main(argv);
}
