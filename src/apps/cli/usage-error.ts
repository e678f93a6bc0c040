/** A usage mistake on the command line (a flag's value, flags that exclude each other): one line, exit 2. */
export class UsageError extends Error {
  // Node's own code for a bad argument value: main.ts maps it (and parseArgs' codes) to exit 2.
  readonly code = 'ERR_INVALID_ARG_VALUE';
}
