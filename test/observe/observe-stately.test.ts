// The Stately inspector and the live view in a process of their own: a browser stand-in (a WebSocket
// client in this process) stays connected to both while the child closes everything; the child must
// still exit by itself, and the stand-in must have seen every session machine live.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { WebSocket } from 'ws';

const mode = process.env.SESSIONPOOL_OBSERVE_CHILD;
if (mode === 'stately' || mode === 'forgotten') await child(mode === 'forgotten');
else defineTests();

interface Urls {
  stately: string;
  live: string;
}

function defineTests(): void {
  test('the Stately relay and the live view see every session; stop() and close() end open connections', async () => {
    const proc = spawn(process.execPath, [new URL(import.meta.url).pathname], {
      env: { ...process.env, SESSIONPOOL_OBSERVE_CHILD: 'stately' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    // The timeout only turns a hang into a failure; nothing is asserted about how long it takes.
    const killer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const lines = readLines(proc.stdout);
    const urls = JSON.parse(await lines.next()) as Urls;

    const page = await fetch(urls.stately).then((r) => r.text());
    assert.match(page, /<iframe id="inspector" src="https:\/\/stately\.ai\/inspect">/);
    const relay = await collect(urls.stately.replace('http:', 'ws:'));
    const live = await collect(`${urls.live.replace('http:', 'ws:')}events`);
    proc.stdin.end('go\n');

    const [code, signal] = await exited;
    clearTimeout(killer);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'the child exited by itself');
    const summary = JSON.parse(await lines.next()) as { sessionIds: string[] };
    await Promise.all([relay.closed, live.closed]);

    // Stately: one @xstate.actor per session with the machine's definition, snapshots up to released.
    const stately = relay.messages as Array<{
      type: string;
      name?: string;
      definition?: string;
      snapshot?: { value?: string; context?: { sessionId?: string } };
    }>;
    const actors = stately.filter((m) => m.type === '@xstate.actor');
    assert.equal(actors.length, 3);
    for (const actor of actors) {
      assert.equal(actor.name, 'session');
      assert.deepEqual(Object.keys((JSON.parse(actor.definition!) as { states: object }).states).sort(), [
        'completed',
        'created',
        'failed',
        'processing',
        'released',
      ]);
    }
    const releasedIds = stately.filter((m) => m.type === '@xstate.snapshot' && m.snapshot?.value === 'released').map((m) => m.snapshot?.context?.sessionId);
    assert.deepEqual(releasedIds.sort(), [...summary.sessionIds].sort());

    // Live view: a hello, then batches whose transitions take every session to released.
    const feed = live.messages as Array<{ type: string; events: Array<{ type: string; sessionId: string; to?: string; threadId?: number }> }>;
    assert.equal(feed[0]?.type, 'hello');
    const events = feed.flatMap((m) => m.events);
    const releasedLive = events.filter((e) => e.type === 'transition' && e.to === 'released').map((e) => e.sessionId);
    assert.deepEqual(releasedLive.sort(), [...summary.sessionIds].sort());
    // Where each ran, from its `started` event or from the transitions that carry the thread.
    const placed = new Set(events.filter((e) => e.threadId !== undefined).map((e) => e.sessionId));
    assert.equal(placed.size, 3);
  });

  test('a process that closes its supervisor but forgets stately.stop() still exits by itself', async () => {
    const proc = spawn(process.execPath, [new URL(import.meta.url).pathname], {
      env: { ...process.env, SESSIONPOOL_OBSERVE_CHILD: 'forgotten' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    // The timeout only turns a hang into a failure; nothing is asserted about how long it takes.
    const killer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    const exited = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const urls = JSON.parse(await readLines(proc.stdout).next()) as Urls;
    const relay = await collect(urls.stately.replace('http:', 'ws:'));
    proc.stdin.end('go\n');
    const [code, signal] = await exited;
    clearTimeout(killer);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'the child exited by itself');
    await relay.closed;
  });
}

/** A WebSocket client that keeps every message (parsed) until the server ends the connection. */
async function collect(url: string): Promise<{ messages: unknown[]; closed: Promise<unknown> }> {
  const ws = new WebSocket(url);
  const messages: unknown[] = [];
  ws.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString())));
  ws.on('error', () => {});
  const closed = once(ws, 'close');
  await once(ws, 'open');
  return { messages, closed };
}

function readLines(stream: NodeJS.ReadableStream): { next(): Promise<string> } {
  const lines: string[] = [];
  const waiters: Array<(line: string) => void> = [];
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    rest += chunk.toString();
    for (let i = rest.indexOf('\n'); i >= 0; i = rest.indexOf('\n')) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      const waiter = waiters.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  return { next: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiters.push(resolve))) };
}

/** The child: mock, inspector, supervisor and live view; sessions once the parent is connected; then close all (or all but the inspector). */
async function child(forgetStately: boolean): Promise<void> {
  const { createSupervisor, startLiveView, startMockProvider, startStatelyInspector } = await import('../../src/index.ts');
  const mock = await startMockProvider();
  const stately = await startStatelyInspector();
  const supervisor = createSupervisor({
    threads: 1,
    logger: false,
    inspect: stately.inspect,
    providers: { glm: { baseURL: mock.baseURL('glm'), apiKey: 'k' } },
  });
  const view = await startLiveView(supervisor);
  console.log(JSON.stringify({ stately: stately.url, live: view.url }));
  await once(process.stdin, 'data');
  process.stdin.destroy();
  const results = await Promise.all([1, 2, 3].map((i) => supervisor.chat({ provider: 'glm', prompt: `hi ${i}` })));
  await supervisor.close();
  await view.close();
  if (!forgetStately) await stately.stop();
  await mock.close();
  console.log(JSON.stringify({ sessionIds: results.map((r) => r.metadata.session.sessionId) }));
}
