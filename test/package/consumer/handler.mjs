// An execute() handler that lives in the consumer's own folder, outside the installed package.
export function double({ n }, { sessionId }) {
  return { doubled: n * 2, hasSession: typeof sessionId === 'string' };
}
