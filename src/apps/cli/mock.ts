/** `sessionpool mock`: runs the mock provider until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import { startMockProvider } from '../mock/server.ts';
import { UsageError } from './usage-error.ts';

const USAGE = 'usage: sessionpool mock [--port N (0)] [--host H (127.0.0.1)] [--latency MS] [--api-key KEY]';

function whole(name: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > max)
    throw new UsageError(`--${name}: expected a whole number from 0 to ${max}, got "${value}"`);
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
  const port = whole('port', values.port, 65_535);
  const latencyMs = whole('latency', values.latency, 86_400_000);
  // An empty key would refuse every request (no bearer equals it): a mistake, not a setting.
  if (values['api-key'] !== undefined && values['api-key'].trim() === '') throw new UsageError('--api-key: expected a key, got an empty string');
  const mock = await startMockProvider({ port, host: values.host, latencyMs, apiKey: values['api-key'] });
  console.log(`mock provider listening on ${mock.url} (kimi: ${mock.baseURL('kimi')}, glm: ${mock.baseURL('glm')}, openai: ${mock.baseURL('openai')})`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await mock.close();
  process.exit(0);
}
