#!/usr/bin/env node
// The `sessionpool` command: one line per subcommand in COMMANDS.
import { runBench } from './bench.ts';
import { runChat } from './chat.ts';
import { runDemo } from './demo.ts';
import { runLoadCommand } from './load.ts';
import { runMockCommand } from './mock.ts';
import { scrubURLs } from '../../api/internal.ts';
import { argvRedactor } from './argv-secrets.ts';

/** Codes of errors that are the operator's mistake (exit 2): a flag's value, refused options, a config file. */
const USAGE_CODES = new Set(['ERR_INVALID_ARG_VALUE', 'ERR_INVALID_REQUEST', 'ERR_CONFIG_FILE']);

/** A message as one line: whatever follows a line break (a usage text, a stack) is dropped. */
function oneLine(message: string): string {
  return message.split(/\r?\n/, 1)[0] ?? '';
}

interface Command {
  summary: string;
  run(argv: string[]): Promise<number | void>;
}

const COMMANDS: Record<string, Command> = {
  demo: { summary: 'run 12 sessions against the embedded mock provider (the main job)', run: runDemo },
  chat: { summary: 'one call to a provider: chat --provider kimi|glm|openai|NAME [--dialect D] [--base-url URL] [--stream] "prompt"', run: runChat },
  mock: { summary: 'serve the embedded OpenAI-compatible mock provider', run: runMockCommand },
  bench: { summary: 'benchmark the engine against plain SDK calls', run: runBench },
  mcp: {
    summary: 'serve the engine as an MCP server (stdio, or --http PORT); --mock for no key',
    run: async (argv) => (await import('./mcp.ts')).runMcp(argv),
  },
  worker: {
    summary: 'a worker host for supervisors on the BullMQ transport: worker --redis URL [--threads N] [--concurrency N]',
    run: async (argv) => (await import('./worker.ts')).runWorkerCommand(argv),
  },
  load: { summary: 'load-test a provider (or the mock): TTFT, ITL, latency, throughput, errors per level', run: runLoadCommand },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: sessionpool <command> [options]\n\ncommands:\n${lines.join('\n')}\n  ${'help'.padEnd(width)}  this text\n\n"sessionpool help <command>" or "sessionpool <command> --help" tells more.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    // "sessionpool help chat" is "sessionpool chat --help".
    const topic = name === 'help' ? rest[0] : undefined;
    if (topic !== undefined && COMMANDS[topic] !== undefined) return (await COMMANDS[topic].run(['--help'])) ?? 0;
    console.log(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    console.error(`sessionpool: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return (await command.run(rest)) ?? 0;
  } catch (error) {
    // Flags (parseArgs, option checks), options the engine refuses and config files are the
    // operator's mistakes: exit 2. Anything else failed the run: exit 1. Always one line, no stack.
    const code = (error as { code?: string }).code;
    const usageMistake = code?.startsWith('ERR_PARSE_ARGS') === true || USAGE_CODES.has(code ?? '');
    const hint = usageMistake ? ` (see "sessionpool ${name} --help")` : '';
    const message = error instanceof Error ? error.message : String(error);
    console.error(`sessionpool ${name}: ${oneLine(scrubURLs(argvRedactor(rest).text(message)))}${hint}`);
    return usageMistake ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
