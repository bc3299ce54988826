/**
 * The ready queue: a binary max-heap of derivations by dispatch score (interactive boost, then
 * critical path). Scores can change when a merge adds builds or edges, so the owner calls
 * `rescore()` then; removals are lazy (an entry that left the set is skipped on pop).
 */
export interface ReadyQueue<T> {
  add(item: T): void;
  delete(item: T): void;
  pop(): T | undefined;
  rescore(): void;
  readonly size: number;
}

export function createReadyQueue<T>(score: (item: T) => number): ReadyQueue<T> {
  const members = new Set<T>();
  let heap: { item: T; score: number }[] = [];

  const less = (a: number, b: number): boolean => heap[a]!.score < heap[b]!.score;
  const swap = (a: number, b: number): void => {
    const t = heap[a]!;
    heap[a] = heap[b]!;
    heap[b] = t;
  };
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(p, i)) break;
      swap(p, i);
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(m, l)) m = l;
      if (r < heap.length && less(m, r)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };

  return {
    get size() {
      return members.size;
    },
    add(item) {
      if (members.has(item)) return;
      members.add(item);
      heap.push({ item, score: score(item) });
      up(heap.length - 1);
    },
    delete(item) {
      members.delete(item);
    },
    pop() {
      while (heap.length > 0) {
        const top = heap[0]!;
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          down(0);
        }
        if (members.delete(top.item)) return top.item;
      }
      return undefined;
    },
    rescore() {
      heap = [...members].map((item) => ({ item, score: score(item) }));
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    },
  };
}
