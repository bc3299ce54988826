// Every test process gets the service's Nix settings, so tests that call nix-* directly behave
// like the service's own child processes, without touching /etc/nix/nix.conf.
import { nixConfigText } from "../../src/nix-env.js";

process.env.NIX_CONFIG = nixConfigText();
