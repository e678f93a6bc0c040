// The helpers that let the same modules run from the .ts sources and from the built dist/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MissingPeerDependencyError, SessionPoolError } from '../../src/index.ts';
import { packageModuleURL } from '../../src/util/module-url.ts';
import { importPeer } from '../../src/errors/optional-peer.ts';

test('packageModuleURL keeps .ts beside a source module and writes .js beside a built one', () => {
  assert.equal(packageModuleURL('../../workers/session-worker.ts', 'file:///p/src/pool/pool.ts'), 'file:///p/workers/session-worker.ts');
  assert.equal(packageModuleURL('../../workers/session-worker.ts', 'file:///p/dist/src/pool/pool.js'), 'file:///p/dist/workers/session-worker.js');
});

test('importPeer turns a missing optional peer into a typed error that says what to install', async () => {
  const name = 'sessionpool-no-such-peer';
  const error = await importPeer(name, 'startSomething', () => import(name)).then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof MissingPeerDependencyError);
  assert.ok(error instanceof SessionPoolError);
  assert.equal(error.code, 'ERR_MISSING_PEER_DEPENDENCY');
  assert.equal(error.packageName, name);
  assert.match(error.message, /startSomething needs the optional peer dependency "sessionpool-no-such-peer": npm install sessionpool-no-such-peer/);
});

test('importPeer rethrows any other failure as it is', async () => {
  const broken = new Error('the peer threw while loading');
  await assert.rejects(
    importPeer('ws', 'startLiveView', () => Promise.reject(broken)),
    (e) => e === broken,
  );
  // A package that is installed but imports something missing is not "the peer is missing".
  const inner = Object.assign(new Error("Cannot find package 'left-pad' imported from /x/node_modules/ws/index.js"), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
  await assert.rejects(
    importPeer('ws', 'startLiveView', () => Promise.reject(inner)),
    (e) => e === inner,
  );
});

test('importPeer resolves with the module when the peer is installed', async () => {
  const ws = await importPeer('ws', 'startLiveView', () => import('ws'));
  assert.equal(typeof ws.WebSocketServer, 'function');
});
