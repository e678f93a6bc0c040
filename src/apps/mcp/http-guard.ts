/**
 * DNS-rebinding protection for the HTTP transport: the Host header (and a browser's Origin) must
 * name this server. On loopback that is localhost/127.0.0.1/[::1]; a server bound elsewhere must
 * be told its names (`allowedHosts`), or it would answer any page that resolves a name to it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostHeaderValidation, originValidation } from '@modelcontextprotocol/node';

export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export type Guard = (req: IncomingMessage, res: ServerResponse) => boolean;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Both checks in one; each answers a refused request with 403 itself and returns false. */
export function requestGuard(host: string, allowedHosts: readonly string[] = []): Guard {
  if (!isLoopback(host) && allowedHosts.length === 0) {
    throw Object.assign(new Error(`--host ${host} is not a loopback address: pass --allowed-host NAME (the names clients use to reach it)`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  const names = [...new Set([...(isLoopback(host) ? LOOPBACK_NAMES : []), ...allowedHosts])];
  const validateHost = hostHeaderValidation(names);
  const validateOrigin = originValidation(names);
  return (req, res) => validateHost(req, res) && validateOrigin(req, res);
}
