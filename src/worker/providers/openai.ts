import { baseBody, continueWithUserTurn, type DialectAdapter } from './dialect.ts';

export const openaiDialect: DialectAdapter = {
  body(call, provider, messages) {
    const body = baseBody(call, provider, messages);
    if (call.stream) body['stream_options'] = { include_usage: true };
    return { ...body, ...call.extra };
  },
  headers: () => ({}),
  continueWith: continueWithUserTurn,
  failedFinish: () => undefined,
};
