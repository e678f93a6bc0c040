// Files the operator names (keys, secrets, config, prompts) are read with a bound: `--config
// /dev/zero`, `--api-key-file /dev/urandom` or a multi-gigabyte file given by mistake grew the
// process by gigabytes for minutes instead of failing in one line. Beyond the bound the read
// stops and fails with EFBIG (the callers report the code, never the content).
import { closeSync, openSync, readSync } from 'node:fs';

export const MAX_SECRET_FILE_BYTES = 64 * 1024;
export const MAX_CONFIG_FILE_BYTES = 16 * 1024 * 1024;
export const MAX_PROMPT_FILE_BYTES = 256 * 1024 * 1024;

const CHUNK = 64 * 1024;

/** The file as UTF-8 text; an error with code EFBIG once it holds more than `maxBytes`. */
export function readTextFileSync(path: string, maxBytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw Object.assign(new Error(`larger than ${maxBytes} bytes`), { code: 'EFBIG' });
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
