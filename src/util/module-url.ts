// The project runs its `.ts` sources directly in development and its built `.js` (dist/) once
// installed. Module paths handed to workers and dynamic imports are not rewritten by the build
// (only import specifiers are), so they take the extension of the module asking for them.

/**
 * The URL of a module of this package, relative to `base` (the caller's `import.meta.url`), written
 * with its source name (`../x/y.ts`): `.ts` when `base` is a source file, `.js` when it is built.
 */
export function packageModuleURL(relative: string, base: string): string {
  const built = base.endsWith('.js');
  return new URL(built ? relative.replace(/\.ts$/, '.js') : relative, base).href;
}
