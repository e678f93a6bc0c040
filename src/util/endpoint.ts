// Comlink's Endpoint is typed for DOM ports; Node's MessagePort speaks `on('message')`, and
// comlink's own node-adapter ships no types. This is the same adapter, typed.
import type { Endpoint } from 'comlink';
import type { MessagePort } from 'node:worker_threads';

type Listener = Parameters<Endpoint['addEventListener']>[1];

export function portEndpoint(port: MessagePort): Endpoint {
  const wrapped = new WeakMap<object, (data: unknown) => void>();
  return {
    postMessage: (message: unknown, transfer?: readonly unknown[]) => port.postMessage(message, transfer as never),
    addEventListener(_type: string, listener: Listener) {
      if (listener === null) return;
      const onMessage = (data: unknown) => {
        const event = { data } as MessageEvent;
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      };
      port.on('message', onMessage);
      wrapped.set(listener, onMessage);
    },
    removeEventListener(_type: string, listener: Listener) {
      const onMessage = listener === null ? undefined : wrapped.get(listener);
      if (onMessage === undefined) return;
      port.off('message', onMessage);
      wrapped.delete(listener as object);
    },
    start: () => port.start(),
  };
}
