/** Captures what the handler writes to stdout (Powertools logs and EMF metric lines) as parsed JSON lines. */
export function captureStdout(): { lines(): Record<string, unknown>[]; text(): string; restore(): void } {
  const chunks: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  return {
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim().startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => {
      spy.mockRestore();
      void original;
    },
  };
}

/**
 * Sum of an EMF metric over the captured lines (Powertools writes the value at the top level). With `action`,
 * only the lines carrying that `action` dimension; without it, only the lines that have none.
 */
export function metricTotal(lines: Record<string, unknown>[], name: string, action?: string): number {
  let total = 0;
  for (const line of lines) {
    if (!('_aws' in line)) continue;
    if (line.action !== action) continue;
    const value = line[name];
    if (typeof value === 'number') total += value;
    else if (Array.isArray(value)) total += value.reduce((a: number, b: unknown) => a + Number(b), 0);
  }
  return total;
}
