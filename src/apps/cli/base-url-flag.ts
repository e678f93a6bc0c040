// `--base-url` of chat and load, checked before anything starts: the engine would refuse a bad one
// too, but later, after the command announced its target, and naming its own option, not the flag.
import { quoteURL, splitURL } from '../../api/internal.ts';

/** Why `--base-url VALUE` cannot be used, in one line that never quotes its credentials; undefined when it can. */
export function baseURLFlagIssue(value: string): string | undefined {
  const quoted = quoteURL(value);
  const shown = JSON.stringify(quoted.length > 80 ? `${quoted.slice(0, 80)}…` : quoted);
  if (splitURL(value)?.userinfo !== undefined) {
    return `--base-url: expected a URL without credentials (user:password@ before the host), got ${shown}; give the key with --api-key-env or --api-key-file`;
  }
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) return `--base-url: expected an http:// or https:// URL, got ${shown}`;
  return undefined;
}
