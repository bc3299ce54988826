# Self-contained building blocks for the example deployment types (no nixpkgs): every derivation
# is a builtins.derivation run by /bin/sh with PATH set. Configuration values never reach a build
# script as code: they travel as derivation attributes written to files (passAsFile).
{ system }:
let
  mk = { name, version ? "1.0", script, deps ? { }, files ? { }, extra ? { } }:
    builtins.derivation ({
      name = "${name}-${version}";
      pname = name;
      inherit version system;
      builder = "/bin/sh";
      PATH = "/usr/bin:/bin";
      args = [ "-c" ("set -eu\n" + script) ];
      passAsFile = builtins.attrNames files;
    } // deps // files // extra);

  # Shared by every application: same inputs, so the same .drv for all of them.
  runtime = mk {
    name = "fediversity-runtime";
    script = ''
      mkdir -p "$out/bin"
      printf '#!/bin/sh\necho "fediversity runtime $*"\n' > "$out/bin/fediversity-run"
      chmod +x "$out/bin/fediversity-run"
    '';
  };

  tlsProxy = mk {
    name = "fediversity-tls-proxy";
    deps = { inherit runtime; };
    script = ''
      mkdir -p "$out/bin"
      printf '#!/bin/sh\nexec %s/bin/fediversity-run tls-proxy "$@"\n' "$runtime" > "$out/bin/tls-proxy"
      chmod +x "$out/bin/tls-proxy"
    '';
  };

  activateBody = ''
    set -eu
    : "''${FEDIVERSITY_TARGET_DIR:?FEDIVERSITY_TARGET_DIR is not set}"
    mkdir -p "$FEDIVERSITY_TARGET_DIR"
    marker="$FEDIVERSITY_TARGET_DIR/$app.running.json"
    tmp="$marker.tmp.$$"
    present=""
    for name in $secret_names; do
      if printenv "$name" >/dev/null 2>&1; then
        present="$present''${present:+,}\"$name\""
      fi
    done
    {
      printf '{"service":"%s","out":"%s","secrets_present":[%s],"configuration":' "$app" "$out" "$present"
      cat "$out/share/$app/config.json"
      printf '}\n'
    } > "$tmp"
    mv "$tmp" "$marker"
    echo "$app activated from $out"
  '';

  deactivateBody = ''
    set -eu
    : "''${FEDIVERSITY_TARGET_DIR:?FEDIVERSITY_TARGET_DIR is not set}"
    rm -f "$FEDIVERSITY_TARGET_DIR/$app.running.json"
    echo "$app deactivated"
  '';

  # One application: a server on the shared runtime, one derivation per enabled feature, its
  # proxy configuration on the shared TLS proxy, its configuration file, and a top-level output
  # with bin/activate and bin/deactivate.
  mkApp = { app, configuration, knownFeatures, secretNames }:
    let
      features = configuration.features or { };
      enabled = builtins.filter (f: (features.${f} or false) == true) knownFeatures;
      server = mk {
        name = "${app}-server";
        deps = { inherit runtime; };
        script = ''
          mkdir -p "$out/bin"
          printf '#!/bin/sh\nexec %s/bin/fediversity-run %s "$@"\n' "$runtime" "$pname" > "$out/bin/$pname"
          chmod +x "$out/bin/$pname"
        '';
      };
      featureDrvs = map (f: mk {
        name = "${app}-${f}";
        deps = { inherit server; };
        script = ''
          mkdir -p "$out"
          echo "$pname on $server" > "$out/feature"
        '';
      }) enabled;
      proxyConfig = mk {
        name = "${app}-proxy-config";
        deps = { proxy = tlsProxy; };
        files = { domain = configuration.domain; };
        script = ''
          mkdir -p "$out"
          cp "$domainPath" "$out/domain"
          echo "$proxy" > "$out/proxy"
        '';
      };
      appConfig = mk {
        name = "${app}-config";
        files = { configJson = builtins.toJSON configuration; };
        script = ''
          mkdir -p "$out"
          cp "$configJsonPath" "$out/config.json"
        '';
      };
    in
    mk {
      name = app;
      deps = { inherit server proxyConfig appConfig; features = featureDrvs; };
      files = { inherit activateBody deactivateBody; };
      extra = { app = app; secretNames = builtins.concatStringsSep " " secretNames; };
      script = ''
        mkdir -p "$out/bin" "$out/share/$app"
        cp "$appConfig/config.json" "$out/share/$app/config.json"
        echo "$features" > "$out/share/$app/features"
        for f in activate deactivate; do
          {
            printf '#!/bin/sh\nout=%s\napp=%s\nsecret_names="%s"\n' "$out" "$app" "$secretNames"
            if [ "$f" = activate ]; then cat "$activateBodyPath"; else cat "$deactivateBodyPath"; fi
          } > "$out/bin/$f"
          chmod +x "$out/bin/$f"
        done
      '';
    };
in
{ inherit mk runtime tlsProxy mkApp; }
