/**
 * An unbounded push queue read as an async iterable: the bridge between the build coordinator,
 * which emits synchronously, and one gRPC response stream. Closing it ends the stream with a
 * clean EOF.
 */
export interface EventChannel<T> extends AsyncIterable<T> {
  push(item: T): void;
  close(): void;
  readonly closed: boolean;
}

export function createEventChannel<T>(onClose?: () => void): EventChannel<T> {
  const items: T[] = [];
  let head = 0;
  let closed = false;
  let wake: (() => void) | undefined;

  const close = (): void => {
    if (closed) return;
    closed = true;
    wake?.();
    onClose?.();
  };

  return {
    get closed() {
      return closed;
    },
    push(item) {
      if (closed) return;
      items.push(item);
      wake?.();
    },
    close,
    async *[Symbol.asyncIterator]() {
      try {
        while (true) {
          if (head < items.length) {
            const item = items[head] as T;
            items[head] = undefined as T;
            head++;
            // Compact now and then so a long-lived stream does not keep every event.
            if (head > 1024 && head * 2 > items.length) {
              items.splice(0, head);
              head = 0;
            }
            yield item;
            continue;
          }
          if (closed) return;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
        }
      } finally {
        close();
      }
    },
  };
}
