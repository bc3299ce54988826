# The fallback evaluator's walker (nix-instantiate --eval --strict --json --read-write-mode).
# It lists the jobs below `prefix` with nix-eval-jobs' recursion rules: the top level always,
# nested attribute sets only with recurseForDerivations = true (or forceRecurse = "1").
# mode "all": a list of jobs. With strict = "0", each job is wrapped in tryEval and a caught
#   failure gives { attrPath; failed = true; } (tryEval hides the message; the caller re-runs
#   that job with strict = "1" to get it).
# mode "names": what is at `prefix` (used to split the work after an uncatchable error).
{ entryJson, cfgPath, mode ? "all", prefixJson ? "[]", forceRecurse ? "0", strict ? "0" }:
let
  root = import ./entry.nix { inherit entryJson cfgPath; };
  prefix = builtins.fromJSON prefixJson;
  force = forceRecurse == "1";
  catching = strict != "1";
  at = builtins.foldl' (v: n: v.${n}) root prefix;
  isDrv = v: builtins.isAttrs v && (v.type or null) == "derivation";
  guard = path: value:
    if catching then
      let t = builtins.tryEval (builtins.deepSeq value value);
      in if t.success then t.value else [ { attrPath = path; failed = true; } ]
    else builtins.deepSeq value value;
  jobOf = path: d: {
    attrPath = path;
    drvPath = d.drvPath;
    name = d.name;
    system = d.system;
    outputs = builtins.listToAttrs (map (o: { name = o; value = d.${o}.outPath; }) (d.outputs or [ "out" ]));
  };
  walk = path: v: top:
    guard path (
      if isDrv v then [ (jobOf path v) ]
      else if builtins.isAttrs v && (top || force || (v.recurseForDerivations or false) == true) then
        builtins.concatLists (map (n: walk (path ++ [ n ]) v.${n} false) (builtins.attrNames v))
      else [ ]
    );
in
if mode == "names" then {
  isDerivation = isDrv at;
  isAttrs = builtins.isAttrs at;
  recurse = prefix == [ ] || force || (builtins.isAttrs at && (at.recurseForDerivations or false) == true);
  names = if builtins.isAttrs at && !(isDrv at) then builtins.attrNames at else [ ];
}
else walk prefix at (prefix == [ ])
