import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { createMachine, setup, type AnyStateMachine } from 'xstate';
import { machineToMermaid, sessionMachine, sessionMachineJSON, sessionMachineMermaid } from '../../src/index.ts';
import { serializeMachine, type SerializedStateNode } from '../../src/apps/observe/machine-export.ts';
import { LABEL_SEPARATOR, sessionMachineDoc, transitionLabel } from '../../src/apps/observe/mermaid.ts';

/** Every transition of a machine as [source, target, label], from its definition. */
function transitionsOf(node: SerializedStateNode): Array<[string, string, string]> {
  const key = (id: string) => id.slice(id.lastIndexOf('.') + 1);
  return Object.values(node.states).flatMap((state) => [
    ...state.transitions.flatMap((t) =>
      (t.target?.length ? t.target : [state.id]).map((target): [string, string, string] => [state.key, key(target), transitionLabel(t)]),
    ),
    ...transitionsOf(state),
  ]);
}

/** The diagram's arrows as [source, target, labels]. */
function arrowsOf(lines: string[]): Array<[string, string, string[]]> {
  return lines.flatMap((line) => {
    const match = /^(\S+) --> (\S+) : (.+)$/.exec(line);
    return match ? [[match[1]!, match[2]!, match[3]!.split(LABEL_SEPARATOR)] as [string, string, string[]]] : [];
  });
}

test('the Mermaid diagram has every state and every transition of the session machine', () => {
  const diagram = sessionMachineMermaid();
  const lines = diagram
    .trimEnd()
    .split('\n')
    .map((line) => line.trim());
  assert.equal(lines[0], 'stateDiagram-v2');
  const root = serializeMachine(sessionMachine);
  const states = Object.keys(root.states);
  assert.deepEqual(states, ['created', 'processing', 'completed', 'failed', 'released']);
  for (const state of states)
    assert.ok(
      lines.some((line) => line.split(/ --> | : /).includes(state)),
      `state ${state}`,
    );
  assert.ok(lines.includes('[*] --> created'));
  assert.ok(lines.includes('released --> [*]'), 'the final state');
  const expected = transitionsOf(root);
  assert.ok(expected.length >= 10, `${expected.length} transitions`);
  const arrows = arrowsOf(lines);
  // Every transition is on the arrow from its source to its target, and nothing else is drawn.
  for (const [source, target, label] of expected) {
    assert.ok(
      arrows.some(([s, t, labels]) => s === source && t === target && labels.includes(label)),
      `transition ${source} --${label}--> ${target}`,
    );
  }
  assert.equal(arrows.flatMap(([, , labels]) => labels).length, expected.length);
  assert.ok(lines.includes('processing --> failed : FAIL<br/>TIMEOUT<br/>ABORT'));
  assert.ok(lines.includes('completed --> released : RELEASE'));
});

test('nested and parallel states, guards and delays are drawn too', () => {
  const machine = setup({ guards: { ready: () => true } }).createMachine({
    id: 'm',
    initial: 'a',
    states: {
      a: { on: { GO: { target: 'b', guard: 'ready' } }, after: { 500: 'c' } },
      b: { initial: 'x', states: { x: { on: { NEXT: 'y' } }, y: { type: 'final' } }, onDone: 'c' },
      c: { type: 'parallel', states: { r1: { initial: 'x', states: { x: {} } }, r2: { initial: 'i', states: { i: {} } } } },
    },
  });
  const diagram = machineToMermaid(machine);
  for (const line of [
    'a --> b : GO [ready]',
    'a --> c : after 500ms',
    'b --> c : done',
    'state b {',
    'b_x --> y : NEXT',
    'y --> [*]',
    'state c {',
    '    --',
    '    state "x" as b_x',
    '      state "x" as c_r1_x',
  ]) {
    assert.ok(diagram.includes(`${line}\n`), `${line}\n${diagram}`);
  }
});

test('sessionMachineJSON() is a createMachine() config with the same states and transitions', () => {
  const json = sessionMachineJSON();
  assert.equal(json.id, 'session');
  assert.equal(json.initial, 'created');
  // Plain JSON: it survives a round trip unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(json)), json);
  const rebuilt = createMachine(JSON.parse(JSON.stringify(json)) as Parameters<typeof createMachine>[0]);
  const flat = (m: AnyStateMachine) =>
    transitionsOf(serializeMachine(m))
      .map((t) => t.join(' '))
      .sort();
  assert.deepEqual(flat(rebuilt), flat(sessionMachine));
  assert.equal(json.states?.['released']?.type, 'final');
});

test('docs/session-machine.md is the generated page (regenerate: node src/apps/observe/mermaid.ts > docs/session-machine.md)', async () => {
  const doc = await readFile(new URL('../../docs/session-machine.md', import.meta.url), 'utf8');
  assert.equal(doc, sessionMachineDoc());
});
