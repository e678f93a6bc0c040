// The live view's server side: the page it serves, its feed, who may connect, and close().
// (The page itself runs in a browser in test/browser/live-view.browser.ts, outside npm test.)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { PROMETHEUS_CONTENT_TYPE, sessionMachineJSON, startLiveView, type LiveView } from '../../src/index.ts';
import type { FeedEvent, FeedMessage } from '../../src/apps/observe/live-feed.ts';
import { harness, user, type Harness } from '../support/helpers.ts';

/** A feed client: every message parsed, and a way to wait for one that matches. */
class FeedClient {
  readonly messages: FeedMessage[] = [];
  readonly ws: WebSocket;
  #waiters: Array<() => void> = [];

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data: Buffer) => {
      this.messages.push(JSON.parse(data.toString()) as FeedMessage);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  get events(): FeedEvent[] {
    return this.messages.flatMap((m) => m.events);
  }

  async until(done: (client: FeedClient) => boolean): Promise<void> {
    while (!done(this)) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

const releasedIds = (events: FeedEvent[]) => events.flatMap((e) => (e.type === 'transition' && e.to === 'released' ? [e.sessionId] : []));

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body, headers: res.headers }));
    })
      .on('error', reject)
      .end();
  });
}

describe('live view', () => {
  let h: Harness;
  let view: LiveView;
  before(async () => {
    h = await harness();
    view = await startLiveView(h.supervisor);
  });
  after(async () => {
    await view.close();
    await h.close();
  });

  test('serves one self-contained page on 127.0.0.1', async () => {
    assert.match(view.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(view.url);
    assert.equal(page.status, 200);
    assert.equal(page.type, 'text/html; charset=utf-8');
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    assert.match(page.body, /<script>\s*\/\/ The live view's drawing[\s\S]*\/\/ The live view's script[\s\S]*<\/script>/);
    assert.match(page.body, /<style>/);
    assert.ok(!page.body.includes('/*__CLIENT__*/'), 'the script is inlined');
    // Nothing fetched from elsewhere: no external script, stylesheet, image or font.
    assert.doesNotMatch(page.body, /<link|<script [^>]*src=|(src|href)=["']?(https?:)?\/\/|@import|url\(\s*["']?https?:/i);
  });

  test('/metrics and /machine.json', async () => {
    const metrics = await get(`${view.url}metrics`);
    assert.equal(metrics.type, PROMETHEUS_CONTENT_TYPE);
    assert.match(metrics.body, /^# HELP sessionpool_sessions_total /);
    const machine = await get(`${view.url}machine.json`);
    assert.deepEqual(JSON.parse(machine.body), sessionMachineJSON());
    assert.equal((await get(`${view.url}nope`)).status, 404);
  });

  test('the feed: hello with the machine, then batches that take every session to released', async () => {
    const client = new FeedClient(`${view.url.replace('http:', 'ws:')}events`);
    await client.until((c) => c.messages.length > 0);
    const hello = client.messages[0]!;
    assert.equal(hello.type, 'hello');
    if (hello.type !== 'hello') return;
    assert.equal(hello.machine.initial, 'created');
    assert.deepEqual(
      hello.machine.states.map((s) => s.name),
      ['created', 'processing', 'completed', 'failed', 'released'],
    );
    assert.ok(hello.machine.states[1]!.transitions.some((t) => t.label === 'COMPLETE' && t.target === 'completed'));

    const results = await Promise.all([
      h.supervisor.chat({ provider: 'kimi', messages: user('a') }),
      h.supervisor.chat({ provider: 'glm', prompt: 'b [[mock status=500 failTimes=1 key=live-retry]]' }),
      h.supervisor.chat({ provider: 'kimi', messages: user('c') }),
    ]);
    const ids = results.map((r) => r.metadata.session.sessionId);
    await client.until((c) => ids.every((id) => releasedIds(c.events).includes(id)));
    for (const id of ids) {
      const path = client.events.filter((e) => e.sessionId === id && e.type === 'transition').map((e) => (e.type === 'transition' ? e.to : ''));
      assert.deepEqual(path, ['created', 'processing', 'completed', 'released']);
    }
    const retried = client.events.find((e) => e.sessionId === ids[1] && e.type === 'transition' && e.to === 'released');
    assert.equal(retried?.type === 'transition' && retried.attempt, 2, 'the retry shows in the attempt count');
    const last = client.messages.at(-1)!;
    assert.equal(last.type === 'batch' && last.dropped, 0);
    assert.ok(last.stats.states.released >= 3);
    // The view's "cost" total is stats().cost: two kimi sessions at the shipped price (glm-4.5-flash is free).
    assert.ok((last.stats.cost.total['USD'] ?? 0) > 0, 'the feed carries the spend');
    assert.equal(last.stats.cost.priced, 3);

    // A page that connects later gets the same sessions in its hello.
    const late = new FeedClient(`${view.url.replace('http:', 'ws:')}events`);
    await late.until((c) => c.messages.length > 0);
    for (const id of ids) assert.ok(releasedIds(late.events).includes(id));
    late.ws.close();
    client.ws.close();
  });

  test('other hosts and origins are refused (DNS rebinding, cross-site WebSocket)', async () => {
    const port = new URL(view.url).port;
    assert.equal((await get(view.url, { host: `evil.example:${port}` })).status, 403);
    for (const options of [{ origin: 'http://evil.example' }, { headers: { host: `evil.example:${port}` } }]) {
      const ws = new WebSocket(`${view.url.replace('http:', 'ws:')}events`, options);
      ws.on('error', () => {});
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(res.statusCode, 403);
      ws.terminate();
    }
    const samePage = new WebSocket(`${view.url.replace('http:', 'ws:')}events`, { origin: view.url.slice(0, -1) });
    await once(samePage, 'open');
    samePage.close();
  });
});

test('close() ends the pages it serves and stops the server', async () => {
  const h = await harness();
  const view = await startLiveView(h.supervisor);
  const client = new FeedClient(`${view.url.replace('http:', 'ws:')}events`);
  await client.until((c) => c.messages.length > 0);
  const closed = once(client.ws, 'close') as Promise<[number]>;
  await view.close();
  assert.equal((await closed)[0], 1001);
  await assert.rejects(get(view.url), /ECONNREFUSED/);
  assert.equal(h.supervisor.listenerCount('transition'), 1, 'only the harness listens again');
  assert.equal(h.supervisor.listenerCount('started'), 0);
  await h.close();
});
