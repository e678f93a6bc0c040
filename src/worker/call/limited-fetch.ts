// The SDK's fetch, with every response body cut at `maxBytes` decoded bytes (after gzip or brotli):
// a bomb or an endless stream stops there with ERR_RESPONSE_TOO_LARGE, and the connection is closed.
// An unencoded body whose Content-Length is within the limit is passed through untouched: the HTTP
// framing already bounds it (the parser reads no byte past that length), and the stream and Response
// a cut would need cost ~0.25 ms on a one-at-a-time call.
import { ResponseTooLargeError } from '../../errors/errors.ts';

export function limitedFetch(maxBytes: number, provider: string, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.body === null || framedWithin(response.headers, maxBytes)) return response;
    let seen = 0;
    const limiter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > maxBytes)
          controller.error(new ResponseTooLargeError(`${provider} sent more than maxResponseBytes (${maxBytes}) bytes; the response was cut`));
        else controller.enqueue(chunk);
      },
    });
    const { status, statusText, headers } = response;
    return new Response(response.body.pipeThrough(limiter), { status, statusText, headers });
  };
}

function framedWithin(headers: Headers, maxBytes: number): boolean {
  const encoding = headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') return false;
  const length = headers.get('content-length');
  if (length === null || !/^\d+$/.test(length.trim())) return false;
  return Number(length) <= maxBytes;
}
