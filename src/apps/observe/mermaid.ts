// A Mermaid `stateDiagram-v2` generated from a machine's definition (never drawn by hand), and the
// docs page that shows the session machine: `node src/apps/observe/mermaid.ts > docs/session-machine.md`.
import type { AnyStateMachine } from 'xstate';
import { sessionMachine } from '../../api/public.ts';
import { machineConfigJSON, serializeMachine, type SerializedRef, type SerializedStateNode, type SerializedTransition } from './machine-export.ts';

/** Between the events of one arrow (Mermaid breaks the line there). */
export const LABEL_SEPARATOR = '<br/>';

/**
 * The machine as a Mermaid state diagram: `[*] --> initial`, an arrow from each state to each of its
 * targets labelled with the events that lead there (and `[guard]`), transitions that only run
 * actions as self-loops, final states `--> [*]`. Compound states become `state x { ... }`, parallel
 * regions are separated by `--`. `direction` lays it out left to right (`LR`, the default) or top to bottom.
 * @example
 * ```ts
 * import { setup } from 'xstate';
 * import { machineToMermaid } from 'sessionpool/observe';
 *
 * const door = setup({}).createMachine({ id: 'door', initial: 'closed', states: { closed: { on: { OPEN: 'open' } }, open: { on: { CLOSE: 'closed' } } } });
 * console.log(machineToMermaid(door, { direction: 'TB' }));
 * // stateDiagram-v2
 * //   direction TB
 * //   [*] --> closed
 * //   closed --> open : OPEN
 * //   open --> closed : CLOSE
 * ```
 */
export function machineToMermaid(machine: AnyStateMachine, options: { direction?: 'LR' | 'TB' } = {}): string {
  const root = serializeMachine(machine);
  const names = stateNames(root);
  const lines = ['stateDiagram-v2', `  direction ${options.direction ?? 'LR'}`];
  writeChildren(root, names, lines, '  ');
  return `${lines.join('\n')}\n`;
}

/**
 * The session lifecycle machine (sessionMachine) as a Mermaid state diagram (docs/session-machine.md
 * shows it), to render in Markdown or in the Mermaid live editor.
 * @example
 * ```ts
 * import { sessionMachineMermaid } from 'sessionpool/observe';
 *
 * console.log(sessionMachineMermaid());
 * // stateDiagram-v2
 * //   direction LR
 * //   [*] --> created
 * //   created --> processing : DISPATCH
 * //   created --> failed : TIMEOUT<br/>ABORT<br/>FAIL
 * //   processing --> processing : RETRY [isNewAttempt]
 * //   processing --> completed : COMPLETE
 * //   processing --> failed : FAIL<br/>TIMEOUT<br/>ABORT
 * //   completed --> released : RELEASE
 * //   failed --> released : RELEASE
 * //   released --> [*]
 * ```
 */
export function sessionMachineMermaid(): string {
  return machineToMermaid(sessionMachine);
}

/** The label of a transition: its event (`after 500ms`, `always`, `done`, `error` for xstate's own) and guard. */
export function transitionLabel(t: Pick<SerializedTransition, 'eventType' | 'guard'>): string {
  const event = eventName(t.eventType);
  return t.guard === undefined ? event : `${event} [${refName(t.guard)}]`;
}

function eventName(type: string): string {
  const after = /^xstate\.after\.(\d+)\./.exec(type);
  if (after) return `after ${after[1]}ms`;
  if (type === '') return 'always';
  if (type.startsWith('xstate.done.')) return 'done';
  if (type.startsWith('xstate.error.')) return 'error';
  return type;
}

function writeChildren(node: SerializedStateNode, names: Map<string, string>, lines: string[], indent: string): void {
  const children = Object.values(node.states);
  // A state whose key is not unique gets a path id, declared where it lives, labelled with its key.
  for (const child of children) if (nameOf(names, child.id) !== child.key) lines.push(`${indent}state "${child.key}" as ${nameOf(names, child.id)}`);
  if (node.type === 'parallel') {
    children.forEach((child, i) => {
      if (i > 0) lines.push(`${indent}--`);
      writeState(child, names, lines, indent);
    });
    return;
  }
  const initial = node.initial.target[0];
  if (initial !== undefined) lines.push(`${indent}[*] --> ${nameOf(names, initial)}`);
  for (const child of children) writeState(child, names, lines, indent);
}

function writeState(node: SerializedStateNode, names: Map<string, string>, lines: string[], indent: string): void {
  const name = nameOf(names, node.id);
  if (Object.keys(node.states).length > 0) {
    lines.push(`${indent}state ${name} {`);
    writeChildren(node, names, lines, `${indent}  `);
    lines.push(`${indent}}`);
  }
  // One arrow per target, its events stacked: three arrows created → failed would be unreadable.
  const arrows = new Map<string, string[]>();
  for (const t of node.transitions) {
    const targets = t.target !== undefined && t.target.length > 0 ? t.target : [node.id];
    for (const target of targets) arrows.set(nameOf(names, target), [...(arrows.get(nameOf(names, target)) ?? []), transitionLabel(t)]);
  }
  for (const [target, labels] of arrows) lines.push(`${indent}${name} --> ${target} : ${labels.join(LABEL_SEPARATOR)}`);
  if (node.type === 'final') lines.push(`${indent}${name} --> [*]`);
}

/** Mermaid ids: a state's key when no other state has it, else its path joined by `_`. */
function stateNames(root: SerializedStateNode): Map<string, string> {
  const all: SerializedStateNode[] = [];
  const walk = (node: SerializedStateNode) => Object.values(node.states).forEach((child) => (all.push(child), walk(child)));
  walk(root);
  const keyCount = new Map<string, number>();
  for (const node of all) keyCount.set(node.key, (keyCount.get(node.key) ?? 0) + 1);
  const safe = (text: string) => text.replace(/[^A-Za-z0-9_]/g, '_');
  return new Map(all.map((node) => [node.id, safe(keyCount.get(node.key) === 1 ? node.key : node.id.split('.').slice(1).join('_'))]));
}

function nameOf(names: Map<string, string>, id: string): string {
  const plain = id.replace(/^#/, '');
  return names.get(plain) ?? plain.replace(/[^A-Za-z0-9_]/g, '_');
}

const refName = (ref: SerializedRef) => (typeof ref === 'string' ? ref : ref.type);

/** docs/session-machine.md: the diagram and the editor JSON, both generated. */
export function sessionMachineDoc(): string {
  return [
    '# The session machine',
    '',
    'Generated from `src/engine/session/machine.ts` by `node src/apps/observe/mermaid.ts > docs/session-machine.md`;',
    'do not edit by hand (test/observe/observe-machine.test.ts fails when this page is out of date).',
    '',
    'Every admitted session passes `created → processing → completed | failed → released` exactly once.',
    'A self-loop is a transition that only runs actions (the state stays the same).',
    '',
    '```mermaid',
    sessionMachineMermaid().trimEnd(),
    '```',
    '',
    'As a `createMachine()` config (`sessionMachineJSON()`), to paste into the Stately editor:',
    '',
    '```json',
    JSON.stringify(machineConfigJSON(sessionMachine), null, 2),
    '```',
    '',
  ].join('\n');
}

if (import.meta.main) process.stdout.write(sessionMachineDoc());
