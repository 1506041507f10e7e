type Stream = NodeJS.WriteStream;

/**
 * Captures what the handler writes (Powertools logs: INFO to stdout, WARN and ERROR to stderr; EMF metric lines
 * to stdout) while a test runs, as text and as parsed JSON lines.
 */
export function captureStdout(): { lines(): Record<string, unknown>[]; text(): string; restore(): void } {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream: Stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }),
  );
  return {
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim().startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
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

/** Every EMF metric declared in the captured lines, by namespace and name. */
export function emfMetrics(lines: Record<string, unknown>[]): { namespace: string; name: string }[] {
  return lines.flatMap((line) => {
    const emf = line._aws as
      { CloudWatchMetrics?: { Namespace: string; Metrics: { Name: string }[] }[] } | undefined;
    return (emf?.CloudWatchMetrics ?? []).flatMap(({ Namespace, Metrics }) =>
      Metrics.map(({ Name }) => ({ namespace: Namespace, name: Name })),
    );
  });
}

const realStderr = process.stderr.write.bind(process.stderr);

/** Writes a measurement line past any capture, so it shows in the test run's output. */
export function report(line: string): void {
  realStderr(`${line}\n`);
}
