# Resolves a deployment type's entry point for one configuration. Everything variable arrives as
# data: `entryJson` (where the entry point is) and `cfgPath` (a JSON file holding the
# configuration, read with builtins.readFile + builtins.fromJSON). Nothing is spliced into code.
{ entryJson, cfgPath }:
let
  entry = builtins.fromJSON entryJson;
  configuration = builtins.fromJSON (builtins.readFile cfgPath);
  system = entry.system or builtins.currentSystem;
  args = { inherit configuration system; };
  # Functions met along the attribute path (and at its end) are called with the arguments they
  # declare among { configuration, system }.
  call = v:
    if builtins.isFunction v then
      let formals = builtins.functionArgs v;
      in v (if formals == { } then args else builtins.intersectAttrs formals args)
    else v;
  source = if entry ? flake then builtins.getFlake entry.flake else import entry.file;
in
builtins.foldl' (v: name: call (v.${name})) (call source) (entry.attrPath or [ ])
