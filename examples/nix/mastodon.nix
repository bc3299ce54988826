# Mastodon (example): a function of its configuration producing the top-level output `mastodon`.
{ configuration, system ? builtins.currentSystem }:
let lib = import ./lib.nix { inherit system; };
in {
  mastodon = lib.mkApp {
    app = "mastodon";
    inherit configuration;
    knownFeatures = [ "streaming" "search" "sidekiq" ];
    secretNames = [ "MASTODON_SECRET_KEY_BASE" "MASTODON_OTP_SECRET" ];
  };
}
