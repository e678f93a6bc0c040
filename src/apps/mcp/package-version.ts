/**
 * The version this server reports as `serverInfo.version`. A path relative to this file would
 * differ between the sources (src/apps/mcp/) and the build (dist/src/apps/mcp/): the package names itself
 * instead, through its own exports map ("./package.json"), which Node resolves from any file inside
 * the package. No fallback: a version that cannot be read is a broken install, not "0.0.0".
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export function packageVersion(): string {
  const manifest = createRequire(import.meta.url).resolve('sessionpool/package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}
