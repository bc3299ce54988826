# Pixelfed (example): a function of its configuration producing the top-level output `pixelfed`.
{ configuration, system ? builtins.currentSystem }:
let lib = import ./lib.nix { inherit system; };
in {
  pixelfed = lib.mkApp {
    app = "pixelfed";
    inherit configuration;
    knownFeatures = [ "stories" "activitypub" "horizon" ];
    secretNames = [ "PIXELFED_APP_KEY" ];
  };
}
