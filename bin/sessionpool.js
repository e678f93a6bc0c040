#!/usr/bin/env node
// The `sessionpool` command. Plain JavaScript with no imports, so that an older Node can parse it
// and say in one line what to install instead of failing with a stack trace inside a dependency.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `sessionpool needs Node.js 22.12 or newer (24 recommended); this is Node ${process.versions.node}. Install it from https://nodejs.org or with a version manager (nvm install 24).`,
  );
  process.exit(2);
}
const main = new URL('../dist/src/apps/cli/main.js', import.meta.url);
import(main.href).catch((error) => {
  // A source checkout has no dist/ until `npm run build`; anything else is a real failure.
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes(main.pathname)) throw error;
  console.error('sessionpool: dist/ is not built (a source checkout?): run `npm run build`, or `node src/apps/cli/main.ts` on Node 24.');
  process.exit(1);
});
