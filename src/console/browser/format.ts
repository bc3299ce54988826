/** Text for times, durations and ids (pure; no DOM). */

export function shortId(id: string): string {
  return id.length > 10 ? `…${id.slice(-8)}` : id;
}

/** `/nix/store/abc…-hello-1.0.drv` → `hello-1.0`. */
export function drvName(drv: string): string {
  const base = drv.slice(drv.lastIndexOf("/") + 1);
  const dash = base.indexOf("-");
  return (dash > 0 ? base.slice(dash + 1) : base).replace(/\.drv$/, "");
}

export function duration(secs: number): string {
  if (!Number.isFinite(secs) || secs < 0) return "–";
  if (secs < 1) return "under a second";
  if (secs < 60) return `${Math.round(secs)} s`;
  const m = Math.floor(secs / 60);
  const rest = Math.round(secs % 60);
  if (m < 60) return rest ? `${m} min ${rest} s` : `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** `2026-01-02T10:11:12.345Z` → `10:11:12` today, else `2026-01-02 10:11`. UTC, as the API gives it. */
export function time(iso: string | null | undefined, now = new Date()): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const day = d.toISOString().slice(0, 10);
  return day === now.toISOString().slice(0, 10) ? `${d.toISOString().slice(11, 19)} UTC` : `${day} ${d.toISOString().slice(11, 16)} UTC`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
