/**
 * `sessionpool bench`: runs the side-by-side benchmark (benchmarks/run.ts), or with `hosts` the
 * BullMQ transport across worker processes (benchmarks/hosts.ts, from a clone: it needs
 * redis-server), as a program of its own; resolves with its exit code. Nothing imports the
 * benchmarks: they are programs that import the package.
 *
 * The benchmark is this command's child: SIGINT, SIGTERM and SIGHUP sent to this process are passed
 * on to it (a `kill PID` or a process manager's stop does not leave it running on its own), and a
 * benchmark ended by a signal ends this command with 128 + the signal's number, as a shell reports it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { packageModuleURL } from '../../api/internal.ts';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * The Node flags of this process the benchmark is given too (`--conditions`, `--cpu-prof`, heap
 * sizes), without those that belong to this process only: a debugger's (a second `--inspect-brk=0`
 * would wait for a debugger nobody attaches) and the test runner's.
 */
export function benchExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i]!;
    if (/^--(inspect|debug)(-brk|-wait|-port|-publish-uid)?(=|$)/.test(flag)) {
      // `--inspect-port 9230` (its value as the next argument)
      if (/^--(inspect|debug)-port$/.test(flag)) i++;
      continue;
    }
    if (/^--test(-|=|$)/.test(flag) || /^--experimental-test-/.test(flag)) continue;
    kept.push(flag);
  }
  return kept;
}

export function runBench(argv: string[]): Promise<number> {
  const hosts = argv[0] === 'hosts';
  const program = fileURLToPath(packageModuleURL(hosts ? '../../../benchmarks/hosts.ts' : '../../../benchmarks/run.ts', import.meta.url));
  if (!existsSync(program)) {
    console.error(
      `sessionpool bench${hosts ? ' hosts' : ''}: ${program} is not in this installation (the hosts benchmark runs from a clone of the repository)`,
    );
    return Promise.resolve(2);
  }
  const child = spawn(process.execPath, [...benchExecArgv(process.execArgv), program, ...(hosts ? argv.slice(1) : argv)], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  return new Promise((resolve) => {
    const done = (code: number): void => {
      for (const signal of FORWARDED) process.off(signal, forward);
      resolve(code);
    };
    child.on('error', (error) => {
      console.error(`sessionpool bench: ${error.message}`);
      done(1);
    });
    child.on('exit', (code, signal) => done(code ?? (signal === null ? 1 : 128 + (constants.signals[signal] ?? 0))));
  });
}
