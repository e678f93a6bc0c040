/**
 * `sessionpool bench`: runs the side-by-side benchmark (benchmarks/run.ts), or with `hosts` the
 * BullMQ transport across worker processes (benchmarks/hosts.ts, from a clone: it needs
 * redis-server), as a program of its own; resolves with its exit code. Nothing imports the
 * benchmarks: they are programs that import the package.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packageModuleURL } from '../../api/internal.ts';

export function runBench(argv: string[]): Promise<number> {
  const hosts = argv[0] === 'hosts';
  const program = fileURLToPath(packageModuleURL(hosts ? '../../../benchmarks/hosts.ts' : '../../../benchmarks/run.ts', import.meta.url));
  if (!existsSync(program)) {
    console.error(
      `sessionpool bench${hosts ? ' hosts' : ''}: ${program} is not in this installation (the hosts benchmark runs from a clone of the repository)`,
    );
    return Promise.resolve(2);
  }
  const child = spawn(process.execPath, [...process.execArgv, program, ...(hosts ? argv.slice(1) : argv)], { stdio: 'inherit' });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      console.error(`sessionpool bench: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}
