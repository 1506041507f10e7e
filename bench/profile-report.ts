// Reads a .cpuprofile of bench/warm-child.mjs (bench/profile-warm.ts) and says where each side's CPU went, per
// notification: by source module (esbuild's `// path` markers in an unminified bundle) and by function, self time
// and inclusive. A sample belongs to the side whose bundle has the innermost frame on its stack; the rest (GC,
// Node's own sockets and timers with no bundle frame) is shown apart.
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: number[];
}
interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

/** Line (0-based) → the source module esbuild wrote above it. */
function moduleLines(file: string): string[] {
  const owner: string[] = [];
  let current = '(banner)';
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const marker = /^\/\/ (\S+\.(?:[cm]?[jt]s|json))$/.exec(line);
    if (marker) current = marker[1]!.replace(/^.*node_modules\//, '');
    owner.push(current);
  }
  return owner;
}

export function profileReport(
  profileFile: string,
  bundles: Readonly<Record<string, string>>,
  notificationsPerSide = 0,
): string {
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const sides = Object.entries(bundles).map(([side, index]) => {
    const dir = `file://${index.slice(0, index.lastIndexOf('/') + 1)}`;
    const lines = new Map<string, string[]>();
    return { side, dir, lines };
  });
  const where = (frame: CallFrame) => {
    const side = sides.find((s) => frame.url.startsWith(s.dir));
    if (!side) return undefined;
    let lines = side.lines.get(frame.url);
    if (!lines) {
      lines = moduleLines(new URL(frame.url).pathname);
      side.lines.set(frame.url, lines);
    }
    return { side: side.side, module: lines[frame.lineNumber] ?? '?' };
  };
  const totals = new Map<string, number>();
  const self = new Map<string, Map<string, number>>();
  const inclusive = new Map<string, Map<string, number>>();
  const add = (map: Map<string, Map<string, number>>, side: string, key: string, us: number) => {
    let m = map.get(side);
    if (!m) map.set(side, (m = new Map<string, number>()));
    m.set(key, (m.get(key) ?? 0) + us);
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(profile.samples[i]!)!;
    if (leaf.callFrame.functionName === '(idle)') continue;
    const stack: ProfileNode[] = [];
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id))
      stack.push(byId.get(id)!);
    const owner = stack.map((n) => where(n.callFrame)).find((w) => w !== undefined);
    const side = owner?.side ?? `(no bundle frame)`;
    totals.set(side, (totals.get(side) ?? 0) + us);
    const leafWhere = where(leaf.callFrame);
    const name = (n: ProfileNode) => {
      const w = where(n.callFrame);
      return `${n.callFrame.functionName || '(anonymous)'} ${w ? w.module : n.callFrame.url.split('/').pop() || ''}:${n.callFrame.lineNumber + 1}`;
    };
    add(self, side, `module ${leafWhere?.module ?? `(native/node) ${leaf.callFrame.functionName}`}`, us);
    add(self, side, `fn ${name(leaf)}`, us);
    const seenModules = new Set<string>();
    const seenFns = new Set<string>();
    for (const n of stack) {
      const w = where(n.callFrame);
      if (w && !seenModules.has(w.module)) {
        seenModules.add(w.module);
        add(inclusive, side, `module ${w.module}`, us);
      }
      const fn = name(n);
      if (w && !seenFns.has(fn)) {
        seenFns.add(fn);
        add(inclusive, side, `fn ${fn}`, us);
      }
    }
  }
  const per = notificationsPerSide > 0 ? notificationsPerSide : 1;
  const unit = notificationsPerSide > 0 ? 'µs/notification' : 'µs';
  const out: string[] = [];
  for (const [side, total] of totals) out.push(`${side}: ${(total / per).toFixed(0)} ${unit}`);
  const top = (map: Map<string, number> | undefined, prefix: string, n: number) =>
    [...(map ?? new Map<string, number>())]
      .filter(([k]) => k.startsWith(prefix))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `  ${(v / per).toFixed(0).padStart(6)}  ${k.slice(prefix.length)}`);
  for (const side of totals.keys()) {
    out.push('', `== ${side}: self time by module`, ...top(self.get(side), 'module ', 30));
    out.push('', `== ${side}: self time by function`, ...top(self.get(side), 'fn ', 40));
    out.push('', `== ${side}: inclusive by module`, ...top(inclusive.get(side), 'module ', 40));
    out.push('', `== ${side}: inclusive by function`, ...top(inclusive.get(side), 'fn ', 60));
  }
  return out.join('\n');
}

if (process.argv[1]?.endsWith('profile-report.ts') && process.argv[2]) {
  const [file, pipeline, floor, n] = process.argv.slice(2);
  process.stdout.write(`${profileReport(file!, { pipeline: pipeline!, floor: floor! }, Number(n ?? 0))}\n`);
}
