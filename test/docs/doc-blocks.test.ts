// The doc-test: every fenced block of README.md, docs/**/*.md and examples/*.md, and every fenced
// block of the TSDoc comments of src/ (the API reference's `@example`s), runs as written, against the
// embedded mock provider, with no key and no network. Run it alone with
//   node --test test/docs/doc-blocks.test.ts        (or npm run test:docs; npm run test:tsdoc: src/ only)
// DOC_TEST_ONLY=docs/engine.md runs the blocks of the documents (or source files: src/errors/) whose
// path contains that text;
// DOC_TEST_KEEP=1 keeps the scratch project (its path is printed) to look at the files written;
// DOC_TEST_VERBOSE=1 prints what each block wrote.
//
// The conventions (docs/README.md, "How the examples are tested", says the same for writers):
//
// - ```ts / ```typescript blocks are written as `<doc>-L<line>.mts`, ```js / ```javascript blocks as
//   `.mjs`, in a scratch project whose package.json says "type": "commonjs" (what `npm init` writes):
//   an example is an ES module by its extension, so it runs as written in any project. Each runs as
//   `node --conditions=sessionpool-source FILE` from its document's folder (the package.json export
//   condition maps 'sessionpool', 'sessionpool/mock' and 'sessionpool/observe' to the sources), and
//   must exit 0 by itself within 30 s. Blocks import only those three, node builtins and installed
//   packages: a block starts the mock itself (startMockProvider) and points its providers at it.
// - ts blocks are also type-checked: `tsc --noEmit` over all of them, with a tsconfig extending the
//   repository's (strict, nodenext, customConditions sessionpool-source).
// - A ts/js block whose first line is `// file: NAME` (a handler module another block refers to, or
//   a CommonJS host `host.cjs`) is written under NAME instead, before any block of its document
//   runs; it is run like the others (and type-checked when it is a ts block). `<!-- doc-test: file NAME -->` right before
//   a block does the same for blocks that cannot hold a comment (a JSON config file).
// - ```sh / ```bash / ```shell blocks run with `bash -euo pipefail`, stdin closed; ```console blocks
//   run their `$ ` lines (the rest is output). `sessionpool` and `npx sessionpool` run the command
//   from the sources: the scratch project's node_modules/.bin/sessionpool runs the file that
//   bin/sessionpool.js loads from dist/, as its .ts source.
// - ```json blocks are parsed; ```yaml blocks are parsed (with the `yaml` package of the tree).
//   ```text and ```mermaid blocks are not run. A block without a language fails: say what it is.
// - `<!-- doc-test: skip — REASON -->` right before a block: not run, reported as skipped with its
//   reason; a skip marker without a reason fails. Keep them few: npm install from the registry, real
//   keys, servers that run until stopped.
// - `<!-- doc-test: redis -->` right before a block: the runner starts one redis-server on 127.0.0.1
//   and gives the block REDIS_URL; without redis-server the block is skipped, saying so.
// - Every block runs with the provider keys (every *_API_KEY variable, OPENAI_BASE_URL) removed from
//   its environment, so an example that forgot to point at the mock fails rather than call a real
//   provider, and with SESSIONPOOL_JOB_SECRET set to a fresh random secret (what a deployment sets).
//   NODE_COMPILE_CACHE (in the temp directory, kept between runs) spares each block part of loading
//   the sources.
// - A failure names the document, the block's line, and the block's stderr (tsc errors are mapped
//   to the document's lines). Blocks run two at a time, one node process each; on Linux each is
//   pinned (taskset) to a core of its own, as on a one-core machine: the two at once do not fight over
//   both cores, and a supervisor's default pool is one thread.
// - TSDoc examples (src/**/*.ts as git lists them): a fenced block inside a `/** … */` comment, its
//   ` * ` prefix stripped, is a block like the others, named `src/x.ts:LINE` (the line of its opening
//   fence in the .ts file; tsc's errors point at the .ts file's line and column) and written as
//   `src_x/src_x-L<line>.mts`. Its markers, which an HTML comment cannot be in TSDoc, are its first
//   lines: `// doc-test: skip — REASON` (a reason in words, as above), `// doc-test: redis`; a
//   `<!-- doc-test: … -->` line in a TSDoc comment fails, saying so. An example that reads REDIS_URL
//   gets the redis-server without a marker (a marker line would show in the API reference). Each redis
//   block gets a database of its own on that server (REDIS_URL ends in /N), so two at once do not take
//   each other's jobs. TMPDIR is a folder of the scratch project: what an example writes to
//   os.tmpdir() (a handler module) is removed with it.
// - Besides the blocks: relative links must name existing files and headings, and repository paths
//   in inline code (`src/redact.ts`, `test/bullmq-*.test.ts`) must exist, so a file that moves shows
//   every document that names it (a path git ignores, such as docs/api/, built by `npm run docs`, need not).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, globSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BLOCK_TIMEOUT_MS = 30_000;
const TSC_TIMEOUT_MS = 90_000;
// The whole suite: longer than `npm test`'s --test-timeout (120 s), which a loaded machine could pass;
// each block keeps its own bound.
const SUITE_TIMEOUT_MS = 600_000;

type Kind = 'node' | 'shell' | 'console' | 'json' | 'yaml' | 'inert';

const LANGUAGES: Readonly<Record<string, { kind: Kind; ext: string }>> = {
  ts: { kind: 'node', ext: '.mts' },
  typescript: { kind: 'node', ext: '.mts' },
  js: { kind: 'node', ext: '.mjs' },
  javascript: { kind: 'node', ext: '.mjs' },
  sh: { kind: 'shell', ext: '.sh' },
  bash: { kind: 'shell', ext: '.sh' },
  shell: { kind: 'shell', ext: '.sh' },
  console: { kind: 'console', ext: '.sh' },
  json: { kind: 'json', ext: '.json' },
  yaml: { kind: 'yaml', ext: '.yaml' },
  yml: { kind: 'yaml', ext: '.yaml' },
  text: { kind: 'inert', ext: '.txt' },
  mermaid: { kind: 'inert', ext: '.mmd' },
};

interface Block {
  /** The document, relative to the repository (README.md, docs/engine.md), or the source file of a TSDoc example. */
  doc: string;
  /** The 1-based line of the opening fence (in the .ts file for a TSDoc example). */
  line: number;
  /** A fenced block of a TSDoc comment in src/ (an `@example`), not of a markdown document. */
  tsdoc: boolean;
  lang: string;
  body: string;
  /** The file name in the document's folder of the scratch project. */
  file: string;
  /** For a TSDoc example: the width of the comment's prefix (`   * `), added to tsc's columns. */
  columnOffset?: number;
  /** Set when the block was given its own name (`// file: NAME` or a file marker). */
  named: boolean;
  skip?: string;
  redis: boolean;
  /** Why the block is wrong before it runs (an unknown language, a skip without a reason). */
  problem?: string;
}

/** The documents: README.md, docs/ and examples/, as git sees them (docs/api/, TypeDoc's output, is ignored). */
function markdownFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', 'docs', 'examples'], { cwd: ROOT, encoding: 'utf8' });
  const docs = listed.split('\n').filter((path) => path.endsWith('.md') && existsSync(join(ROOT, path)));
  return ['README.md', ...docs.sort()];
}

/** The folder a document's blocks are written to: README, docs_engine, docs_hosts_x, src_errors_errors. */
const folderOf = (doc: string): string => doc.replace(/\.(md|[cm]?ts)$/, '').replaceAll('/', '_');

const MARKER = /^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$/;

/** Every fenced block of a document, with the markers written right before it. */
function extractBlocks(doc: string): Block[] {
  const lines = readFileSync(join(ROOT, doc), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    // A fence in a blockquote (or a list item's `>`) would be left out unseen: refused, not skipped.
    if (/^\s*>\s*(`{3,}|~{3,})/.test(lines[i]!)) {
      const quoted = describeBlock(doc, i + 1, 'text', [], []);
      quoted.problem = 'a fenced block inside a blockquote is not run: move it out of the quote';
      blocks.push(quoted);
      const end = lines.findIndex((line, k) => k > i && /^\s*>\s*(`{3,}|~{3,})\s*$/.test(line));
      if (end > i) i = end;
      continue;
    }
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent = '', fence = '```', lang = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = lines[j]!.trim();
      if (close.length >= fence.length && close === fence[0]!.repeat(close.length)) break;
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trimStart());
    }
    blocks.push(describeBlock(doc, i + 1, lang.toLowerCase(), body, markersBefore(lines, i)));
    i = j;
  }
  return blocks;
}

/** The doc-test markers on the lines right before line `index` (blank lines between are allowed). */
function markersBefore(lines: string[], index: number): string[] {
  const markers: string[] = [];
  for (let k = index - 1; k >= 0; k--) {
    const text = lines[k]!;
    if (text.trim() === '') continue;
    const match = MARKER.exec(text);
    if (match === null) break;
    markers.unshift(match[1]!);
  }
  return markers;
}

function describeBlock(doc: string, line: number, lang: string, lines: string[], markers: string[], tsdoc = false): Block {
  const language = LANGUAGES[lang];
  const block: Block = {
    doc,
    line,
    tsdoc,
    lang,
    body: `${lines.join('\n')}\n`,
    file: `${folderOf(doc).replace(/^docs_/, '')}-L${line}${language?.ext ?? '.txt'}`,
    named: false,
    redis: false,
  };
  if (language === undefined) {
    block.problem =
      lang === ''
        ? 'a block without a language: write ```text for output, or the language it is in'
        : `a block in "${lang}", which the doc-test does not know (${Object.keys(LANGUAGES).join(', ')})`;
  }
  if (language?.kind === 'console' && lines.some((l) => l.startsWith('$ ') && l.trimEnd().endsWith('\\'))) {
    block.problem = 'a console block with a continued command (a line ending in \\): write it as a ```sh block, whose lines all run';
  }
  const fileComment = /^\/\/ file: (\S+)\s*$/.exec(lines[0] ?? '');
  if (fileComment !== null && language?.kind === 'node') [block.file, block.named] = [fileComment[1]!, true];
  for (const marker of markers) {
    const skip = /^skip\b\s*[—:-]*\s*(.*)$/.exec(marker);
    const file = /^file\s+(\S+)$/.exec(marker);
    if (skip !== null) {
      if (!/[A-Za-z]{3}/.test(skip[1]!)) block.problem = 'a `doc-test: skip` marker without a reason: say why the block cannot run here';
      else block.skip = skip[1]!.trim();
    } else if (file !== null) [block.file, block.named] = [file[1]!, true];
    else if (marker === 'redis') block.redis = true;
    else block.problem = `an unknown doc-test marker "${marker}" (skip — REASON, file NAME, redis)`;
  }
  // A TSDoc example that reads REDIS_URL needs a server: it gets one without a marker line in the API reference.
  if (tsdoc && /\bREDIS_URL\b/.test(block.body)) block.redis = true;
  // The scratch project's node_modules links the repository's packages: an install there could change them.
  if (
    block.skip === undefined &&
    (language?.kind === 'shell' || language?.kind === 'console') &&
    /\bnpm\s+(install|i|ci|add|update|uninstall)\b/.test(block.body)
  ) {
    block.problem = 'a shell block that runs npm install: the doc-test would install into its scratch project; mark it `doc-test: skip — REASON`';
  }
  return block;
}

/** The TypeScript sources whose TSDoc examples run: src/, as git sees it. */
function sourceFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', 'src'], { cwd: ROOT, encoding: 'utf8' });
  return listed
    .split('\n')
    .filter((path) => /\.[cm]?ts$/.test(path) && !/\.d\.[cm]?ts$/.test(path) && existsSync(join(ROOT, path)))
    .sort();
}

/** A TSDoc comment line without its ` * ` prefix. */
const uncomment = (line: string): string => {
  const prefix = /^\s*\*(?: |$)/.exec(line);
  return prefix === null ? line.trimStart() : line.slice(prefix[0].length);
};

const TSDOC_MARKER = /^\/\/\s*doc-test:\s*(.*?)\s*$/;

/**
 * Every fenced block of the TSDoc comments (`/** … *\/`) of a source file: its lines without the
 * comment's ` * ` prefix, named by the line of its opening fence in the .ts file. Its markers are its
 * first lines, `// doc-test: skip — REASON` (an HTML comment has no place in TSDoc).
 */
function extractExamples(file: string): Block[] {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  let inComment = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!inComment) {
      // A TSDoc comment opens a line (`/**` inside a string, 'src/**/*.ts', is not one) and may close on it.
      inComment = /^\s*\/\*\*(?!\/)/.test(line) && !line.replace(/^\s*\/\*\*/, '').includes('*/');
      continue;
    }
    if (line.includes('*/')) {
      inComment = false;
      continue;
    }
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/.exec(uncomment(line));
    if (open === null) continue;
    const [, indent = '', fence = '```', lang = ''] = open;
    const body: string[] = [];
    let closed = false;
    let j = i + 1;
    for (; j < lines.length && !lines[j]!.includes('*/'); j++) {
      const text = uncomment(lines[j]!);
      const close = text.trim();
      if (close.length >= fence.length && close === fence[0]!.repeat(close.length)) {
        closed = true;
        break;
      }
      body.push(text.startsWith(indent) ? text.slice(indent.length) : text.trimStart());
    }
    const markers: string[] = [];
    while (markers.length < body.length && TSDOC_MARKER.test(body[markers.length]!)) markers.push(TSDOC_MARKER.exec(body[markers.length]!)![1]!);
    const block = describeBlock(file, i + 1, lang.toLowerCase(), body, markers, true);
    block.columnOffset = line.length - uncomment(line).length + indent.length;
    const htmlMarker = markersBefore(lines.slice(0, i + 1).map(uncomment), i);
    if (!closed) block.problem = 'the fenced block is not closed before its TSDoc comment ends';
    else if (htmlMarker.length > 0)
      block.problem = `a \`<!-- doc-test: ${htmlMarker[0]} -->\` marker in TSDoc: write it as the block's first line, \`// doc-test: ${htmlMarker[0]}\``;
    blocks.push(block);
    if (!closed) inComment = false;
    i = j;
  }
  return blocks;
}

const only = process.env['DOC_TEST_ONLY'];
const markdownBlocks = markdownFiles()
  .filter((doc) => only === undefined || doc.includes(only))
  .flatMap(extractBlocks);
const exampleBlocks = sourceFiles()
  .filter((file) => only === undefined || file.includes(only))
  .flatMap(extractExamples);
const allBlocks = [...markdownBlocks, ...exampleBlocks];
const fileNames = new Map<string, Block>();
for (const block of allBlocks) {
  const key = `${folderOf(block.doc)}/${block.file}`;
  const first = fileNames.get(key);
  if (first !== undefined) block.problem = `the file name ${block.file} is taken by the block at line ${first.line} of the same document`;
  else fileNames.set(key, block);
}
const runnable = allBlocks.filter((b) => LANGUAGES[b.lang]?.kind !== 'inert' || b.problem !== undefined);
const tsBlocks = runnable.filter((b) => (b.lang === 'ts' || b.lang === 'typescript') && b.skip === undefined && b.problem === undefined);
const redisMissing = spawnSync('redis-server', ['--version']).status === 0 ? undefined : 'redis-server is not installed (apt-get install redis-server)';

// ---------------------------------------------------------------------------------------------
// The scratch project: package.json ("type": "commonjs"), node_modules linking the repository's
// packages and the repository itself as `sessionpool`, .bin/sessionpool running the CLI's source.

let scratch = '';
let blockEnv: NodeJS.ProcessEnv = {};

/** The CLI's source: the file bin/sessionpool.js imports from dist/, as .ts (dist/src/x.js ← src/x.ts). */
function cliSource(): string {
  const bin = readFileSync(join(ROOT, 'bin/sessionpool.js'), 'utf8');
  const built = /new URL\(\s*['"]\.\.\/dist\/([^'"]+)\.js['"]/.exec(bin)?.[1];
  const source = built === undefined ? undefined : join(ROOT, `${built}.ts`);
  assert.ok(
    source !== undefined && existsSync(source),
    `bin/sessionpool.js should load dist/<path>.js whose source is <path>.ts; found ${built ?? 'no dist/ path'}`,
  );
  return source;
}

function makeScratch(): void {
  scratch = mkdtempSync(join(tmpdir(), 'sessionpool-doc-blocks-'));
  writeFileSync(join(scratch, 'package.json'), `${JSON.stringify({ name: 'doc-blocks', private: true, type: 'commonjs' }, null, 2)}\n`);
  const modules = join(scratch, 'node_modules');
  mkdirSync(join(modules, '.bin'), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name.startsWith('.') || name === 'sessionpool') continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
  }
  symlinkSync(ROOT, join(modules, 'sessionpool'));
  const shim = join(modules, '.bin', 'sessionpool');
  writeFileSync(shim, `#!/bin/sh\nexec '${process.execPath}' --conditions=sessionpool-source '${cliSource()}' "$@"\n`);
  chmodSync(shim, 0o755);
  // Every file is written before any block runs: a block may refer to a file another one defines.
  for (const block of runnable) {
    if (block.problem !== undefined || block.skip !== undefined) continue;
    const dir = join(scratch, folderOf(block.doc));
    mkdirSync(dir, { recursive: true });
    const body = LANGUAGES[block.lang]?.kind === 'console' ? consoleCommands(block.body) : block.body;
    writeFileSync(join(dir, block.file), LANGUAGES[block.lang]?.ext === '.sh' ? `set -euo pipefail\n${body}` : body);
  }
  writeFileSync(
    join(scratch, 'tsconfig.json'),
    `${JSON.stringify({ extends: join(ROOT, 'tsconfig.json'), compilerOptions: { noEmit: true }, include: ['*/**/*.mts', '*/**/*.cts', '*/**/*.ts'], exclude: ['node_modules'] }, null, 2)}\n`,
  );
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (/_API_KEY$/.test(name) || name === 'OPENAI_BASE_URL' || name.startsWith('NODE_TEST')) delete env[name];
  for (const name of ['REDIS_URL', 'REDIS_PASSWORD', 'SESSIONPOOL_LOG_LEVEL']) delete env[name];
  env['SESSIONPOOL_JOB_SECRET'] = randomBytes(32).toString('hex');
  // Node's compile cache (kept between runs) spares each block part of loading the sources.
  env['NODE_COMPILE_CACHE'] ??= join(tmpdir(), 'sessionpool-doc-blocks-compile-cache');
  // What an example writes to os.tmpdir() (a handler module) stays in the scratch project.
  env['TMPDIR'] = join(scratch, 'tmp');
  mkdirSync(env['TMPDIR']);
  env['PATH'] = [join(modules, '.bin'), dirname(process.execPath), join(ROOT, 'node_modules', '.bin'), process.env['PATH'] ?? ''].join(':');
  blockEnv = env;
}

/** A console block's commands: its `$ ` lines. */
function consoleCommands(body: string): string {
  return `${body
    .split('\n')
    .filter((l) => l.startsWith('$ '))
    .map((l) => l.slice(2))
    .join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Running a block: one process (its own process group, killed when it ends or times out).

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout = (stdout + chunk).slice(-20_000)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // what the block left running in the background (a server it started)
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

const where = (block: Block): string => `${block.doc}:${block.line} (${block.tsdoc ? '@example ' : ''}${block.lang} block, ${block.file})`;

function failure(block: Block, outcome: Outcome): string {
  const how = outcome.timedOut ? `did not exit within ${BLOCK_TIMEOUT_MS / 1000} s` : `exited with ${outcome.code ?? outcome.signal}`;
  const tail = (text: string) => (text.length > 4000 ? `…${text.slice(-4000)}` : text);
  return `${where(block)} ${how}\n--- stderr ---\n${tail(outcome.stderr)}\n--- stdout ---\n${tail(outcome.stdout)}`;
}

let redis: { url: string; child: ChildProcess } | undefined;
let redisStarting: Promise<string> | undefined;
/** The server's databases (`--databases`): one for each redis block (database 0 is left unused). */
const REDIS_DATABASES = 64;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** One redis-server on loopback for the blocks that need one, started by the first of them. */
function redisServer(): Promise<string> {
  redisStarting ??= (async () => {
    const port = await freePort();
    const dir = join(scratch, 'redis');
    mkdirSync(dir, { recursive: true });
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--databases', String(REDIS_DATABASES)];
    const child = spawn('redis-server', args, {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    });
    redis = { url: `redis://127.0.0.1:${port}`, child };
    return redis.url;
  })();
  return redisStarting;
}

/**
 * The cores this process may run on (Linux), each lent to one block at a time: a block runs pinned
 * to its core (taskset), as on a one-core machine, so the two that run at once do not share their
 * cores, and a supervisor's default pool (min(4, availableParallelism()) threads) is one thread, not
 * two on a two-core machine — the same programs at about two thirds of the CPU time.
 */
const freeCores = new Set<number>(allowedCores());

/** The cores of Cpus_allowed_list (0-1, 0,2-3), when taskset can pin a process to them; else none. */
function allowedCores(): number[] {
  if (process.platform !== 'linux') return [];
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
  const cores = list.split(',').flatMap((range) => {
    const [from = Number.NaN, to = from] = range.split('-').map(Number);
    return Number.isInteger(from) && Number.isInteger(to) ? Array.from({ length: to - from + 1 }, (_, i) => from + i) : [];
  });
  return cores.length > 0 && spawnSync('taskset', ['-c', String(cores[0]), 'true']).status === 0 ? cores : [];
}

/** A free core, taken until the block ends; none when every core is lent (the block runs unpinned). */
function takeCore(): number | undefined {
  const [core] = freeCores;
  if (core !== undefined) freeCores.delete(core);
  return core;
}

/**
 * A redis block's REDIS_URL: a database of its own on the one server, so that two blocks running at
 * once (both with queueName 'sessions') do not take each other's jobs.
 */
async function redisURL(block: Block): Promise<string> {
  const database = runnable.filter((b) => b.redis).indexOf(block) + 1;
  assert.ok(database > 0 && database < REDIS_DATABASES, `${where(block)}: no redis database left for it (${REDIS_DATABASES} in all)`);
  return `${await redisServer()}/${database}`;
}

async function runBlock(block: Block): Promise<void> {
  const kind = LANGUAGES[block.lang]!.kind;
  const cwd = join(scratch, folderOf(block.doc));
  if (kind === 'json') {
    assert.doesNotThrow(
      () => JSON.parse(block.body),
      (error: Error) => assert.fail(`${where(block)}: not JSON: ${error.message}`),
    );
    return;
  }
  if (kind === 'yaml') {
    const yamlPackage = 'yaml'; // a package of the tree (not a dependency of ours): only YAML blocks need it
    const yaml = (await import(yamlPackage).catch(() => assert.fail(`${where(block)}: cannot parse YAML blocks: the \`yaml\` package is not installed`))) as {
      parse(text: string): unknown;
    };
    try {
      yaml.parse(block.body);
    } catch (error) {
      assert.fail(`${where(block)}: not YAML: ${(error as Error).message}`);
    }
    return;
  }
  const env = block.redis ? { ...blockEnv, REDIS_URL: await redisURL(block) } : blockEnv;
  const [command, ...args] = kind === 'node' ? [process.execPath, '--conditions=sessionpool-source', block.file] : ['bash', block.file];
  const core = takeCore();
  let outcome: Outcome;
  try {
    outcome =
      core === undefined
        ? await run(command!, args, cwd, env, BLOCK_TIMEOUT_MS)
        : await run('taskset', ['-c', String(core), command!, ...args], cwd, env, BLOCK_TIMEOUT_MS);
  } finally {
    if (core !== undefined) freeCores.add(core);
  }
  assert.ok(outcome.code === 0 && !outcome.timedOut, failure(block, outcome));
  if (process.env['DOC_TEST_VERBOSE']) console.log(`--- ${where(block)}\n${outcome.stdout}${outcome.stderr}`);
}

/** tsc over every ts block at once; its errors as `document:line`. */
async function typeCheck(): Promise<void> {
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  const outcome = await run(tsc, ['-p', join(scratch, 'tsconfig.json'), '--pretty', 'false'], scratch, blockEnv, TSC_TIMEOUT_MS);
  if (outcome.code === 0) return;
  const byFile = new Map(tsBlocks.map((b) => [`${folderOf(b.doc)}/${b.file}`, b]));
  const ours: string[] = [];
  const others: string[] = [];
  let last: string[] | undefined;
  for (const line of outcome.stdout.split('\n').filter((l) => l.trim() !== '')) {
    const match = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(line);
    const block = match === null ? undefined : byFile.get(relative(scratch, join(scratch, match[1]!)));
    if (match === null && /^\s/.test(line) && last !== undefined)
      last.push(`${last.pop()}\n${line}`); // a message's next line
    else if (match !== null && block !== undefined)
      (last = ours).push(`${block.doc}:${block.line + Number(match[2])} (col ${Number(match[3]) + (block.columnOffset ?? 0)}, ${block.file}): ${match[4]}`);
    else (last = others).push(line);
  }
  assert.ok(!outcome.timedOut, `tsc did not finish within ${TSC_TIMEOUT_MS / 1000} s`);
  assert.ok(ours.length === 0, `ts blocks do not type-check:\n${ours.join('\n')}`);
  const unplaced = others.filter((l) => !/^\S.*\(\d+,\d+\): /.test(l));
  assert.ok(unplaced.length === 0, `tsc failed (exit ${outcome.code}):\n${unplaced.join('\n')}`);
  // Errors in the sources themselves: `npm run typecheck` reports those; the blocks are fine.
  if (others.length > 0) console.warn(`doc-test: tsc reported errors outside the doc blocks:\n${others.slice(0, 20).join('\n')}`);
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens; repeats get -1, -2. */
function anchorsOf(doc: string): Set<string> {
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(join(ROOT, doc), 'utf8').split('\n')) {
    if (/^\s*(`{3,}|~{3,})/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading === null) continue;
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    let candidate = slug;
    for (let n = 1; anchors.has(candidate); n++) candidate = `${slug}-${n}`;
    anchors.add(candidate);
  }
  return anchors;
}

/** Every relative link of the documents that names a missing file or heading. */
function brokenLinks(): string[] {
  const broken: string[] = [];
  for (const doc of markdownFiles()) {
    const text = readFileSync(join(ROOT, doc), 'utf8').replace(/^\s*(`{3,}|~{3,})[\s\S]*?^\s*\1\s*$/gm, '');
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target)) continue; // https:, mailto:
      const [path = '', anchor] = target.split('#');
      const file = path === '' ? doc : join(dirname(doc), path);
      if (!existsSync(join(ROOT, file))) broken.push(`${doc}: ${target} (no file ${file})`);
      else if (anchor !== undefined && file.endsWith('.md') && !anchorsOf(file).has(anchor))
        broken.push(`${doc}: ${target} (no heading #${anchor} in ${file})`);
    }
  }
  return broken;
}

/** Repository paths the documents name in inline code (`src/redact.ts`, `test/faults/`) that do not exist. */
function missingPaths(): string[] {
  const missing: string[] = [];
  const pathPattern = /(?<![\w./-])((?:src|test|test-[\w-]+|benchmarks|workers|bin|scripts|docs|\.ci)\/[\w./*-]*\w)/g;
  for (const doc of markdownFiles()) {
    const text = readFileSync(join(ROOT, doc), 'utf8').replace(/^\s*(`{3,}|~{3,})[\s\S]*?^\s*\1\s*$/gm, '');
    for (const [, code = ''] of text.matchAll(/`([^`]+)`/g)) {
      for (const [, path = ''] of code.matchAll(pathPattern)) {
        const exists = path.includes('*') ? globSync(path, { cwd: ROOT }).length > 0 : existsSync(join(ROOT, path));
        if (!exists) missing.push(`${doc}: ${path}`);
      }
    }
  }
  // What git ignores is built output (docs/api/ by `npm run docs`): named, but absent from a fresh clone.
  const named = missing.map((entry) => entry.slice(entry.indexOf(': ') + 2));
  // (Each asked as a file and as a folder: `docs/api/` in .gitignore matches only the latter.)
  const asked = named.flatMap((path) => [path, `${path.replace(/\/$/, '')}/`]).join('\n');
  const ignored = new Set(spawnSync('git', ['check-ignore', '--no-index', '--stdin'], { cwd: ROOT, input: asked, encoding: 'utf8' }).stdout.split('\n'));
  return missing.filter((_, i) => !ignored.has(named[i]!) && !ignored.has(`${named[i]!.replace(/\/$/, '')}/`));
}

// ---------------------------------------------------------------------------------------------

function count(tsdoc: boolean) {
  const blocks = runnable.filter((b) => b.tsdoc === tsdoc);
  return {
    found: allBlocks.filter((b) => b.tsdoc === tsdoc).length,
    run: blocks.filter((b) => b.skip === undefined && b.problem === undefined && !(b.redis && redisMissing)).length,
    typeChecked: tsBlocks.filter((b) => b.tsdoc === tsdoc).length,
    skipped: blocks.filter((b) => b.skip !== undefined || (b.redis && redisMissing)).length,
    inert: allBlocks.filter((b) => b.tsdoc === tsdoc).length - blocks.length,
  };
}
const [documents, examples] = [count(false), count(true)];

describe(`doc blocks: ${documents.run} run, ${documents.typeChecked} type-checked, ${documents.skipped} skipped, ${documents.inert} not code; TSDoc examples of src/: ${examples.found} found, ${examples.typeChecked} type-checked, ${examples.run} run, ${examples.skipped} skipped`, {
  concurrency: 2,
  timeout: SUITE_TIMEOUT_MS,
}, () => {
  before(makeScratch);
  after(async () => {
    redis?.child.kill('SIGKILL');
    if (process.env['DOC_TEST_KEEP']) console.log(`doc-test: scratch project kept at ${scratch}`);
    else if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
  });

  test('the documents have code blocks', () => {
    const found = runnable.filter((b) => !b.tsdoc).length;
    assert.ok(only !== undefined || found > 20, `found only ${found} blocks to run: is the extraction broken?`);
  });

  test('the sources have TSDoc examples', () => {
    assert.ok(only !== undefined || examples.found > 50, `found only ${examples.found} fenced blocks in the TSDoc of src/: is the extraction broken?`);
  });

  test('relative links in the documents name existing files and headings', () => {
    const broken = brokenLinks();
    assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
  });

  test('the repository paths the documents name exist', () => {
    const missing = missingPaths();
    assert.deepEqual(missing, [], `paths named in the documents that do not exist (moved?):\n${missing.join('\n')}`);
  });

  if (tsBlocks.length > 0) test(`${tsBlocks.length} ts blocks type-check (tsc --noEmit)`, { timeout: TSC_TIMEOUT_MS + 10_000 }, typeCheck);

  for (const block of runnable) {
    const name = `${block.doc}:${block.line} ${block.tsdoc ? '@example ' : ''}${block.lang}${block.named ? ` (${block.file})` : ''}`;
    if (block.problem !== undefined) {
      const problem = block.problem;
      test(name, () => assert.fail(`${where(block)}: ${problem}`));
    } else if (block.skip !== undefined) test(name, { skip: block.skip }, () => {});
    else if (block.redis && redisMissing) test(name, { skip: redisMissing }, () => {});
    else test(name, { timeout: BLOCK_TIMEOUT_MS + 10_000 }, () => runBlock(block));
  }
});
