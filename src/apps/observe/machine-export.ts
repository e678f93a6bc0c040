// A machine's structure as plain JSON: the serialized definition (what xstate's toJSON() gives, with
// state nodes referenced by id) and, built from it, a createMachine() config that the Stately editor
// imports. Both are derived from the machine itself, so they cannot drift from the code.
import type { AnyStateMachine } from 'xstate';
import { sessionMachine } from '../../api/public.ts';

/** An action or guard as serialized: its name, or `{ type }` for inline ones (e.g. `xstate.assign`). */
export type SerializedRef = string | { type: string };

export interface SerializedTransition {
  eventType: string;
  /** State node ids prefixed with `#`; absent for a transition that only runs actions. */
  target?: string[];
  guard?: SerializedRef;
  actions: SerializedRef[];
  source: string;
}

export interface SerializedStateNode {
  id: string;
  key: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  initial: { target: string[] };
  states: Record<string, SerializedStateNode>;
  transitions: SerializedTransition[];
  entry: SerializedRef[];
  exit: SerializedRef[];
  tags: string[];
}

/** The machine's definition as plain data (xstate's `toJSON()`, with every state node reduced to its id). */
export function serializeMachine(machine: AnyStateMachine): SerializedStateNode {
  return JSON.parse(JSON.stringify(machine.toJSON())) as SerializedStateNode;
}

/** A state node of a MachineConfigJSON, as `createMachine()` takes it (fields that would be empty are left out). */
export interface StateConfigJSON {
  /** `parallel`, `final` or `history`; absent for atomic and compound states. */
  type?: 'parallel' | 'final' | 'history';
  /** A compound state's initial child, by key. */
  initial?: string;
  /** Actions run on entering the state. */
  entry?: JsonRef | JsonRef[];
  /** Actions run on leaving the state. */
  exit?: JsonRef | JsonRef[];
  /** The state's tags. */
  tags?: string[];
  /** Transitions by event type (several for one event: tried in order, by their guards). */
  on?: Record<string, TransitionConfigJSON | TransitionConfigJSON[]>;
  /** Child states by key. */
  states?: Record<string, StateConfigJSON>;
}

/** A machine as a `createMachine()` config in JSON: its root state node plus its id. */
export interface MachineConfigJSON extends StateConfigJSON {
  /** The machine's id (`session` for the session machine). */
  id: string;
}

/** An action or guard in a MachineConfigJSON: its name, or `{ type }` for a built-in one (`xstate.assign`). */
export type JsonRef =
  | string
  | {
      /** The action's or guard's type. */
      type: string;
    };

/** A transition of a StateConfigJSON. */
export interface TransitionConfigJSON {
  /** The target state: a sibling's key, or `#id` for any other; absent for a transition that only runs actions. */
  target?: string | string[];
  /** The guard that must pass, by name. */
  guard?: JsonRef;
  /** The actions it runs, by name. */
  actions?: JsonRef | JsonRef[];
}

/**
 * The machine as a `createMachine()` config in JSON (no implementations: actions and guards by
 * name), for the Stately editor or for `createMachine(json)` in a test.
 * @example
 * ```ts
 * import { setup } from 'xstate';
 * import { machineConfigJSON } from 'sessionpool/observe';
 *
 * const toggle = setup({}).createMachine({ id: 'toggle', initial: 'off', states: { off: { on: { FLIP: 'on' } }, on: { on: { FLIP: 'off' } } } });
 * console.log(JSON.stringify(machineConfigJSON(toggle)));
 * // {"id":"toggle","initial":"off","states":{"off":{"on":{"FLIP":{"target":"on"}}},"on":{"on":{"FLIP":{"target":"off"}}}}}
 * ```
 */
export function machineConfigJSON(machine: AnyStateMachine): MachineConfigJSON {
  const root = serializeMachine(machine);
  return { id: root.key, ...stateConfig(root) };
}

/**
 * The session lifecycle machine (sessionMachine) as a `createMachine()` config in JSON, to paste into
 * the Stately editor; the live view serves it at `/machine.json`.
 * @example
 * ```ts
 * import { sessionMachineJSON } from 'sessionpool/observe';
 *
 * const config = sessionMachineJSON();
 * console.log(config.id, config.initial, Object.keys(config.states ?? {})); // session created [ 'created', 'processing', 'completed', 'failed', 'released' ]
 * console.log(config.states?.['processing']?.on?.['COMPLETE']); // { target: 'completed', actions: 'markCompleted' }
 * ```
 */
export function sessionMachineJSON(): MachineConfigJSON {
  return machineConfigJSON(sessionMachine);
}

function stateConfig(node: SerializedStateNode): StateConfigJSON {
  const config: StateConfigJSON = {};
  if (node.type === 'parallel' || node.type === 'final' || node.type === 'history') config.type = node.type;
  const initial = node.initial.target[0];
  if (node.type === 'compound' && initial !== undefined) config.initial = relativeTarget(node.id, initial);
  if (node.entry.length > 0) config.entry = oneOrMany(node.entry);
  if (node.exit.length > 0) config.exit = oneOrMany(node.exit);
  if (node.tags.length > 0) config.tags = node.tags;
  const on = transitionsConfig(node);
  if (on !== undefined) config.on = on;
  const children = Object.values(node.states);
  if (children.length > 0) config.states = Object.fromEntries(children.map((child) => [child.key, stateConfig(child)]));
  return config;
}

function transitionsConfig(node: SerializedStateNode): StateConfigJSON['on'] {
  const byEvent = new Map<string, TransitionConfigJSON[]>();
  for (const t of node.transitions) {
    const config: TransitionConfigJSON = {};
    if (t.target !== undefined && t.target.length > 0) config.target = oneOrMany(t.target.map((id) => relativeTarget(parentId(node.id), id)));
    if (t.guard !== undefined) config.guard = t.guard;
    if (t.actions.length > 0) config.actions = oneOrMany(t.actions);
    byEvent.set(t.eventType, [...(byEvent.get(t.eventType) ?? []), config]);
  }
  if (byEvent.size === 0) return undefined;
  return Object.fromEntries([...byEvent].map(([event, list]) => [event, list.length === 1 ? list[0]! : list]));
}

/** `#session.processing` seen from scope `session` → `processing` (a direct child); anything else stays an id. */
function relativeTarget(scopeId: string, target: string): string {
  const id = target.replace(/^#/, '');
  const rest = id.startsWith(`${scopeId}.`) ? id.slice(scopeId.length + 1) : undefined;
  return rest !== undefined && !rest.includes('.') ? rest : `#${id}`;
}

function parentId(id: string): string {
  return id.includes('.') ? id.slice(0, id.lastIndexOf('.')) : '';
}

function oneOrMany<T>(items: T[]): T | T[] {
  return items.length === 1 ? items[0]! : items;
}
