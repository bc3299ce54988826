/**
 * Settings every Nix process started by the service runs with. They are passed through NIX_CONFIG
 * (which Nix layers over /etc/nix/nix.conf) so the service never rewrites the machine's config:
 * no build users on a single-user store, no sandbox (builders use /bin/sh), no network
 * substituters offline, and a 1 s lock poll so concurrent realisations of a shared derivation
 * notice each other quickly, and a bound on a builder's log.
 */
export const serviceNixSettings: Readonly<Record<string, string>> = Object.freeze({
  "build-users-group": "",
  sandbox: "false",
  substituters: "",
  "experimental-features": "nix-command flakes",
  "max-jobs": "auto",
  "build-poll-interval": "1",
  // A builder that writes more log than this is killed (build_failed), instead of filling the
  // scheduler's and the store's log with gigabytes of output.
  "max-build-log-size": String(64 * 1024 * 1024),
});

export function nixConfigText(overrides: Readonly<Record<string, string>> = {}): string {
  const merged = { ...serviceNixSettings, ...overrides };
  return Object.entries(merged)
    .map(([k, v]) => `${k} = ${v}`)
    .join("\n");
}

/** The environment for a Nix child process: the given base plus our NIX_CONFIG. */
export function nixEnv(
  base: NodeJS.ProcessEnv = process.env,
  overrides: Readonly<Record<string, string>> = {},
): NodeJS.ProcessEnv {
  const extra = base.FEDIVERSITY_NIX_CONFIG ? `\n${base.FEDIVERSITY_NIX_CONFIG}` : "";
  return { ...base, NIX_CONFIG: nixConfigText(overrides) + extra };
}
