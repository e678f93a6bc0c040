/**
 * What one HTTP MCP session is doing, read from its transport's traffic: which tool calls are in
 * flight (a tools/call request received, not yet answered nor cancelled), whether it ever called a
 * tool, whether a GET stream is open, and when it was last used. Only a running call protects a
 * session from eviction: a standing GET stream or a slow upload costs a client nothing to hold.
 */
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { RequestsInFlight } from './requests-in-flight.ts';

export class SessionActivity {
  /** Who opened the session (its remote address): limits per client count by it. */
  readonly client: string;
  /** When a request last started or ended on it. */
  lastActive: number;
  calledTool = false;
  /** GET streams open: a client that is still connected (the SDK's client holds one while it lives). */
  streams = 0;
  /** Its requests in flight: a POST whose request id is among them is refused (http.ts). */
  readonly requests = new RequestsInFlight();

  constructor(client: string, now: number) {
    this.client = client;
    this.lastActive = now;
  }

  get connected(): boolean {
    return this.streams > 0;
  }

  /** A tool call is in flight: the session must not be closed under it. */
  get busy(): boolean {
    return this.requests.toolCalls > 0;
  }

  received(message: JSONRPCMessage): void {
    this.requests.delivered(message);
    if ((message as { method?: unknown }).method === 'tools/call') this.calledTool = true;
  }

  sent(message: JSONRPCMessage): void {
    this.requests.sent(message);
  }
}

/**
 * Feeds a connected transport's traffic to `activity`. It wraps the two members the SDK's Protocol
 * uses after connect() (its `onmessage` handler and the transport's `send`), so it must be called
 * after connect() and before the first request is handled.
 */
export function observeTransport(transport: Transport, activity: SessionActivity): void {
  const deliver = transport.onmessage;
  transport.onmessage = (message, extra) => {
    activity.received(message);
    deliver?.(message, extra);
  };
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    activity.sent(message);
    return send(message, options);
  };
}
