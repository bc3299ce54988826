/**
 * Which deployment type a request uses: the one it names, else the deployment's stored one, else a
 * type named like the deployment. The one place that decides it (submit and plan), so the store
 * always receives a resolved, configured type (its own check, core's same rule, guards direct callers).
 */
import { deploymentTypeRequired } from "../core/index.js";
import type { DeploymentType, DeploymentTypes } from "../eval/index.js";
import { AppError } from "../errors.js";
import type { Store } from "../store/index.js";

export type TypeResolver = (tenant: string, deployment: string, named: string | undefined) => DeploymentType;

export function createTypeResolver(types: DeploymentTypes, store: Pick<Store, "getDeployment">): TypeResolver {
  function typeNamed(name: string): DeploymentType {
    const t = types.get(name);
    if (!t) {
      throw new AppError("invalid_argument", `unknown deployment_type ${JSON.stringify(name)}`, [
        { path: "deployment_type", message: `must be one of ${[...types.keys()].join(", ")}` },
      ]);
    }
    return t;
  }

  return (tenant, deployment, named) => {
    if (named !== undefined) return typeNamed(named);
    try {
      return typeNamed(store.getDeployment(tenant, deployment).deployment_type);
    } catch (err) {
      if (!AppError.is(err, "not_found")) throw err;
    }
    if (types.has(deployment)) return typeNamed(deployment);
    throw AppError.fromViolation(deploymentTypeRequired);
  };
}
