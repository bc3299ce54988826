/** Status changes for screen readers, through the page's one polite live region. */

export interface Announcer {
  announce(text: string): void;
}

export function createAnnouncer(region: HTMLElement): Announcer {
  let queue: string[] = [];
  let timer = 0;
  return {
    announce(text) {
      // Several changes in one burst are read as one message instead of interrupting each other.
      queue.push(text);
      if (timer) return;
      timer = window.setTimeout(() => {
        region.textContent = queue.slice(-4).join(". ");
        queue = [];
        timer = 0;
      }, 250);
    },
  };
}
