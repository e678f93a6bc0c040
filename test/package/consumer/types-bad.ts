// Must NOT type-check: test/package/run.sh expects tsc to report the error below (TS2322).
import type { ChatRequest } from 'sessionpool';

export const request: ChatRequest = { provider: 'kimi', timeoutMs: 'soon' };
