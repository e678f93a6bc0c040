// Redirects of provider calls, bounded. fetch follows up to 20 by itself (and the engine's retries
// made a loop 63 requests that ended as "connection lost"). Here only 307/308 — the redirects that
// keep the method and body of a POST — are followed, within the configured origin (the API key is
// never sent elsewhere), at most MAX_REDIRECTS times; anything else comes back as an error response
// that says redirect, which the SDK turns into a typed, non-retried ProviderError.
export const MAX_REDIRECTS = 3;

const FOLLOWED = new Set([307, 308]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type Fetch = typeof fetch;

export function boundedRedirectFetch(inner: Fetch = fetch): Fetch {
  return async (input, init) => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    const origin = url.origin;
    const replayable = init?.body === undefined || init.body === null || typeof init.body === 'string';
    for (let hops = 0; ; hops++) {
      const response = await inner(url, { ...init, redirect: 'manual' });
      if (!REDIRECTS.has(response.status)) return response;
      const location = response.headers.get('location');
      const next = location === null ? undefined : new URL(location, url);
      const why = refusal(response.status, next, origin, hops, replayable);
      if (why !== undefined) {
        await response.body?.cancel();
        return redirectError(response.status, why);
      }
      await response.body?.cancel();
      url = next!;
    }
  };
}

function refusal(status: number, next: URL | undefined, origin: string, hops: number, replayable: boolean): string | undefined {
  if (next === undefined) return `a ${status} redirect without a Location`;
  if (!FOLLOWED.has(status))
    return `a ${status} redirect to ${next.origin}${next.pathname} (only 307 and 308 keep a POST's body; set baseURL to the final address)`;
  if (next.origin !== origin)
    return `a redirect to another origin (${next.origin}), not followed so that the API key stays with ${origin}; set baseURL to the final address`;
  if (hops >= MAX_REDIRECTS) return `more than ${MAX_REDIRECTS} redirects (a redirect loop?), the last to ${next.pathname}`;
  if (!replayable) return 'a redirect of a request whose body cannot be sent twice';
  return undefined;
}

/** An error response in the OpenAI error shape: the SDK raises it as an APIError with this status and code. */
function redirectError(status: number, why: string): Response {
  const body = { error: { message: `redirect not followed: ${why}`, type: 'redirect', code: 'redirect' } };
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}
