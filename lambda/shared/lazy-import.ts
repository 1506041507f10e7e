// A module the function loads with import() at its first use only, kept once loaded.

/**
 * `load` (an `import()`) run once and its promise kept: every later call resolves in a microtask instead of asking
 * the module loader again. A failed load is tried again at the next call, as a bare `import()` would be.
 */
export function lazyImport<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}
