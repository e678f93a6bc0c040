const live = new Map<object, string>();
for (const name of ['setTimeout', 'setInterval'] as const) {
  const orig = globalThis[name] as unknown as (...a: unknown[]) => NodeJS.Timeout;
  (globalThis as Record<string, unknown>)[name] = (...args: unknown[]) => {
    const t = orig(...args);
    live.set(t, `${name} ${String(args[1])} ${new Error().stack?.split('\n').slice(2, 7).join(' | ')}`);
    return t;
  };
}
setTimeout(() => {
  for (const [t, s] of live) if ((t as NodeJS.Timeout).hasRef() && !(t as unknown as { _destroyed: boolean })._destroyed) console.log('LIVE', s);
}, 25_000).unref();
