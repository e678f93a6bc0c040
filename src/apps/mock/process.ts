// The embedded mock provider in a child process, so that serving the answers (JSON bodies, SSE
// events, timers) is not counted as work of the host being measured (used by bench and load).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { packageModuleURL } from '../../api/internal.ts';

const MOCK_CLI = packageModuleURL('../cli/mock.ts', import.meta.url);

export interface MockProcess {
  /** e.g. http://127.0.0.1:43210 (the OpenAI dialect lives under /v1). */
  readonly url: string;
  readonly pid: number;
  close(): Promise<void>;
}

/** Starts `sessionpool mock --port 0` in a child process and resolves once it printed its URL. */
export async function startMockProcess(timeoutMs = 15_000): Promise<MockProcess> {
  const script = `import(${JSON.stringify(MOCK_CLI)}).then((m) => m.runMockCommand(['--port', '0']))`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  // A bench that dies for any reason must not leave the mock behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    const url = await listeningURL(child, timeoutMs);
    return {
      url,
      pid: child.pid ?? -1,
      async close() {
        process.off('exit', killOnExit);
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    process.off('exit', killOnExit);
    throw error;
  }
}

function listeningURL(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`the mock provider did not start: ${why}\nstdout: ${out}\nstderr: ${err}`));
    };
    const timer = setTimeout(() => fail(`no URL within ${timeoutMs} ms`), timeoutMs);
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /listening on (http:\/\/[^\s(]+)/.exec(out)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve(url);
    });
    child.once('exit', (code, signal) => fail(`exited with ${code ?? signal}`));
    child.once('error', (error) => fail(error.message));
  });
}
