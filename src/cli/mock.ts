/** `sessionpool mock`: runs the mock provider until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { startMockProvider } from '../mock/server.ts';

const USAGE = 'usage: sessionpool mock [--port N (0)] [--host H (127.0.0.1)] [--latency MS] [--api-key KEY]';

function nonNegative(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${value}"\n${USAGE}`);
  return n;
}

export async function runMockCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      latency: { type: 'string' },
      'api-key': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const mock = await startMockProvider({
    port: nonNegative('port', values.port),
    host: values.host,
    latencyMs: nonNegative('latency', values.latency),
    apiKey: values['api-key'],
  });
  console.log(`mock provider listening on ${mock.url} (kimi: ${mock.baseURL('kimi')}, glm: ${mock.baseURL('glm')}, openai: ${mock.baseURL('openai')})`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await mock.close();
  process.exit(0);
}
