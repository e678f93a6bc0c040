// bullmq and ioredis are optional peer dependencies: only the transport across hosts needs them,
// so a lean install leaves them out and they are imported when a producer or worker host starts.
import { importPeer } from '../../errors/optional-peer.ts';

export type BullMQ = typeof import('bullmq');
export type IORedis = { Redis: typeof import('ioredis').Redis };

export function loadBullMQ(): Promise<BullMQ> {
  return importPeer('bullmq', 'The BullMQ transport', () => import('bullmq'));
}

export function loadIORedis(): Promise<IORedis> {
  return importPeer('ioredis', 'The BullMQ transport', async () => ({ Redis: (await import('ioredis')).Redis }));
}
