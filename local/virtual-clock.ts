// A virtual clock for simulations: `sleep` schedules on a timeline, and `run` jumps from one timer to the next
// once every pending promise has settled, so hours of retries take milliseconds and every run is the same.

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
}

/** Runs the microtask queue dry: setImmediate fires only after every pending promise reaction has run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export class VirtualClock {
  private nowMs: number;
  private seq = 0;
  private readonly heap: Timer[] = [];

  constructor(startMs: number) {
    this.nowMs = startMs;
  }

  readonly now = (): number => this.nowMs;

  /** Resolves after `ms` of virtual time. */
  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => this.at(this.nowMs + Math.max(0, ms), resolve));

  /** Calls `fire` at virtual time `at` (or now, if that has passed). */
  at(at: number, fire: () => void): void {
    this.push({ at: Math.max(at, this.nowMs), seq: this.seq++, fire });
  }

  /**
   * Advances time until no timer is left, or until `untilMs`. Code waiting on anything but this clock (real
   * timers, I/O) would stall: the simulation has none.
   */
  async run(untilMs = Number.POSITIVE_INFINITY): Promise<void> {
    for (;;) {
      await settle();
      const next = this.heap[0];
      if (next === undefined || next.at > untilMs) break;
      this.nowMs = next.at;
      while (this.heap[0] !== undefined && this.heap[0].at === this.nowMs) this.pop().fire();
    }
    if (Number.isFinite(untilMs)) this.nowMs = Math.max(this.nowMs, untilMs);
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): Timer {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && before(heap[left]!, heap[least]!)) least = left;
        if (right < heap.length && before(heap[right]!, heap[least]!)) least = right;
        if (least === i) break;
        [heap[i], heap[least]] = [heap[least]!, heap[i]!];
        i = least;
      }
    }
    return top;
  }
}

const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** mulberry32: a small seeded generator, so that a simulation's "random" delays repeat run after run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
