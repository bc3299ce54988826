# PeerTube (example): a function of its configuration producing the top-level output `peertube`.
{ configuration, system ? builtins.currentSystem }:
let lib = import ./lib.nix { inherit system; };
in {
  peertube = lib.mkApp {
    app = "peertube";
    inherit configuration;
    knownFeatures = [ "transcoding" "live" "federation" ];
    secretNames = [ "PEERTUBE_SECRET" ];
  };
}
