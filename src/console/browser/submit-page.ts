/**
 * Submit a configuration: the type's JSON Schema (`schema.get`) becomes a form prefilled with its
 * `examples[0]`, validated in the browser with ajv as you type; `plan` shows what would be built
 * and what is cached; only a planned configuration can be submitted, and the submit button says
 * exactly what it will do. A JSON editor is there for what the form does not cover.
 */
import type { JsonSchema, PlanResult, SchemaResult, SubmitResult } from "./api-types.js";
import type { AppContext, Page } from "./app-context.js";
import { h, replace } from "./dom.js";
import { drvName, plural } from "./format.js";
import { deploymentHref, type Route } from "./routes.js";
import { createSchemaForm, type SchemaForm } from "./schema-form.js";
import type { Problem } from "./validator.js";
import { ConsoleError } from "./wamp-client.js";

type NewRoute = Extract<Route, { page: "new" }>;
const namePattern = /^[a-z0-9][a-z0-9_]{0,62}$/;
const tenantPattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function createSubmitPage(ctx: AppContext, route: NewRoute): Page {
  const p = ctx.client.principal;
  const needsTenant = p.role !== "tenant";
  const tenantInput = h("input", { id: "f-tenant", value: route.tenant ?? ctx.tenantScope() ?? "", autocomplete: "off", spellcheck: "false", "aria-describedby": "f-tenant-error" });
  const tenantError = h("p", { class: "field-error", id: "f-tenant-error" });
  const nameInput = h("input", { id: "f-deployment", value: route.deployment ?? "", autocomplete: "off", spellcheck: "false", "aria-describedby": "f-deployment-hint f-deployment-error" });
  const nameError = h("p", { class: "field-error", id: "f-deployment-error" });
  const typeSelect = h("select", { id: "f-type", "aria-describedby": "f-type-hint" });
  const typeHint = h("p", { class: "hint", id: "f-type-hint" });
  const modeReplace = h("input", { type: "radio", name: "mode", id: "f-mode-replace", value: "replace", checked: true });
  const modeEnqueue = h("input", { type: "radio", name: "mode", id: "f-mode-enqueue", value: "enqueue" });
  const jsonToggle = h("input", { type: "checkbox", id: "f-json" });
  const jsonArea = h("textarea", { id: "f-json-text", rows: 16, spellcheck: "false", "aria-describedby": "f-json-error" });
  const jsonError = h("p", { class: "field-error", id: "f-json-error" });
  const jsonBox = h("div", { class: "field", hidden: true }, h("label", { for: "f-json-text" }, "Configuration (JSON)"), jsonArea, jsonError);
  const formBox = h("div");
  const summary = h("div", { class: "error-summary", role: "alert", tabindex: -1 });
  const planBtn = h("button", { type: "submit", class: "primary" }, "Plan");
  const submitBtn = h("button", { type: "button", class: "primary", disabled: true }, "Submit");
  const planBox = h("section", { class: "card plan", "aria-labelledby": "plan-title", hidden: true }, h("h2", { id: "plan-title" }, "Plan"));
  const status = h("p", { role: "status", class: "hint" });

  let types: SchemaResult["deployment_types"] = {};
  let schemaForm: SchemaForm | null = null;
  let planned: string | null = null;
  let disposed = false;
  let validateTimer = 0;

  const form = h(
    "form",
    { class: "submit-form", novalidate: true },
    summary,
    needsTenant ? h("div", { class: "field" }, h("label", { for: "f-tenant" }, "Tenant (required)"), tenantInput, tenantError) : null,
    h(
      "div",
      { class: "field" },
      h("label", { for: "f-deployment" }, "Deployment name (required)"),
      nameInput,
      h("p", { class: "hint", id: "f-deployment-hint" }, "Lowercase letters, digits and '_', e.g. mastodon. Submitting to an existing name changes that deployment."),
      nameError,
    ),
    h("div", { class: "field" }, h("label", { for: "f-type" }, "Deployment type"), typeSelect, typeHint),
    h(
      "fieldset",
      { class: "inline" },
      h("legend", {}, "If a sync is already queued or running"),
      h("span", {}, modeReplace, h("label", { for: "f-mode-replace" }, "Replace it (unless it is deploying)")),
      h("span", {}, modeEnqueue, h("label", { for: "f-mode-enqueue" }, "Queue behind it")),
    ),
    h("div", { class: "field check" }, jsonToggle, h("label", { for: "f-json" }, "Edit the configuration as JSON")),
    formBox,
    jsonBox,
    h("div", { class: "form-actions" }, planBtn, submitBtn),
    status,
  );

  const element = h(
    "section",
    { class: "page", "aria-labelledby": "page-title" },
    h("nav", { "aria-label": "Breadcrumb", class: "crumbs" }, h("a", { href: "#/" }, "Deployments")),
    h("h1", { id: "page-title", tabindex: -1 }, route.deployment ? `Change ${route.deployment}` : "New deployment"),
    form,
    planBox,
  );

  function currentSchema(): JsonSchema | null {
    return types[typeSelect.value]?.schema ?? null;
  }

  function configuration(): unknown {
    if (jsonToggle.checked) {
      try {
        return JSON.parse(jsonArea.value) as unknown;
      } catch (err) {
        throw new Error(`The JSON is not valid: ${(err as Error).message}`, { cause: err });
      }
    }
    return schemaForm?.value() ?? {};
  }

  function renderForm(initial: unknown): void {
    const schema = currentSchema();
    if (!schema) return;
    typeHint.textContent = types[typeSelect.value]?.description ?? "";
    schemaForm = createSchemaForm(schema, initial);
    schemaForm.onChange(onEdit);
    replace(formBox, schemaForm.element);
    jsonArea.value = JSON.stringify(initial ?? {}, null, 2);
  }

  function example(): unknown {
    return currentSchema()?.examples?.[0] ?? {};
  }

  function onEdit(): void {
    if (planned !== null) {
      planned = null;
      submitBtn.disabled = true;
      submitBtn.textContent = "Submit";
      status.textContent = "The configuration changed: plan it again before submitting.";
    }
    clearTimeout(validateTimer);
    validateTimer = window.setTimeout(() => void check(false), 300);
  }

  /** Validates everything; shows problems; true when the input is fine. */
  async function check(focusSummary: boolean): Promise<boolean> {
    const problems: Problem[] = [];
    const tenant = tenantInput.value.trim();
    replace(tenantError);
    replace(nameError);
    replace(jsonError);
    tenantInput.removeAttribute("aria-invalid");
    nameInput.removeAttribute("aria-invalid");
    if (needsTenant && !tenantPattern.test(tenant)) {
      problems.push({ path: "tenant", message: "Enter the tenant to act for (lowercase letters, digits, '-' and '_')." });
      tenantError.textContent = "Enter a tenant name.";
      tenantInput.setAttribute("aria-invalid", "true");
    }
    if (!namePattern.test(nameInput.value.trim())) {
      problems.push({ path: "deployment", message: "Enter a deployment name: lowercase letters, digits and '_'." });
      nameError.textContent = "Lowercase letters, digits and '_', starting with a letter or digit.";
      nameInput.setAttribute("aria-invalid", "true");
    }
    let config: unknown;
    try {
      config = configuration();
    } catch (err) {
      problems.push({ path: "configuration", message: (err as Error).message });
      jsonError.textContent = (err as Error).message;
    }
    const schema = currentSchema();
    if (schema && config !== undefined) {
      try {
        const found = await ctx.validator().validate(schema, config);
        if (jsonToggle.checked) {
          if (found.length > 0) jsonError.textContent = found.map((x) => `${x.path}: ${x.message}`).join("; ");
        } else schemaForm?.showProblems(found);
        problems.push(...found);
      } catch (err) {
        problems.push({ path: "configuration", message: (err as Error).message });
      }
    }
    if (disposed) return false;
    if (problems.length === 0) {
      replace(summary);
      summary.hidden = true;
      return true;
    }
    summary.hidden = false;
    replace(summary, h("h2", {}, `${plural(problems.length, "problem")} to fix`), h("ul", {}, ...problems.map((x) => h("li", {}, `${x.path}: ${x.message}`))));
    if (focusSummary) summary.focus();
    return false;
  }

  function request(): Record<string, unknown> {
    return {
      deployment: nameInput.value.trim(),
      deployment_type: typeSelect.value,
      configuration: configuration(),
      ...(needsTenant ? { tenant: tenantInput.value.trim() } : {}),
    };
  }

  function serverProblems(err: unknown): void {
    const e = err instanceof ConsoleError ? err : new ConsoleError("internal", String(err));
    summary.hidden = false;
    const details = e.details.length > 0 ? e.details : [{ path: e.code, message: e.message }];
    if (!jsonToggle.checked) schemaForm?.showProblems(details);
    replace(summary, h("h2", {}, "The service refused this"), h("p", {}, e.message), h("ul", {}, ...details.map((d) => h("li", {}, `${d.path}: ${d.message}`))));
    summary.focus();
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void (async () => {
      if (!(await check(true))) return;
      planBtn.disabled = true;
      status.textContent = "Planning: evaluating the configuration…";
      const req = request();
      try {
        const plan = await ctx.client.call<PlanResult>("fediversity.deployment.plan", req);
        if (disposed) return;
        planned = JSON.stringify(req);
        showPlan(plan, String(req["deployment"]));
        status.textContent = `Planned: ${plan.to_build} to build, ${plan.cached} cached.`;
        submitBtn.disabled = false;
        submitBtn.textContent = `Submit to ${String(req["deployment"])}${needsTenant ? ` (tenant ${String(req["tenant"])})` : ""}`;
      } catch (err) {
        status.textContent = "";
        serverProblems(err);
      } finally {
        planBtn.disabled = false;
      }
    })();
  });

  function showPlan(plan: PlanResult, deployment: string): void {
    planBox.hidden = false;
    const rows = [...plan.nodes].sort((a, b) => Number(a.cached) - Number(b.cached) || a.pname.localeCompare(b.pname));
    replace(
      planBox,
      h("h2", { id: "plan-title" }, `Plan for ${deployment}`),
      h("p", {}, `${plural(plan.derivations, "derivation")}: `, h("strong", {}, `${plan.to_build} to build`), `, ${plan.cached} already cached.`),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          {},
          h("caption", { class: "visually-hidden" }, "Derivations of the plan"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Derivation"), h("th", { scope: "col" }, "Needs"))),
          h("tbody", {}, ...rows.map((n) => h("tr", {}, h("th", { scope: "row", title: n.drv }, n.pname || drvName(n.drv)), h("td", {}, n.cached ? "cached" : "build")))),
        ),
      ),
    );
  }

  submitBtn.addEventListener("click", () => {
    void (async () => {
      const req = request();
      if (planned !== JSON.stringify(req)) {
        status.textContent = "The configuration changed: plan it again before submitting.";
        submitBtn.disabled = true;
        return;
      }
      submitBtn.disabled = true;
      status.textContent = "Submitting…";
      try {
        const r = await ctx.client.call<SubmitResult>("fediversity.deployment.submit", { ...req, mode: modeEnqueue.checked ? "enqueue" : "replace" });
        ctx.announcer.announce(`Submitted: sync ${r.sync.sync} is ${r.sync.state}${r.superseded.length ? `, ${plural(r.superseded.length, "sync")} superseded` : ""}`);
        ctx.navigate(deploymentHref(r.sync.tenant, r.sync.deployment));
      } catch (err) {
        status.textContent = "";
        submitBtn.disabled = false;
        serverProblems(err);
      }
    })();
  });

  jsonToggle.addEventListener("change", () => {
    if (jsonToggle.checked) {
      try {
        jsonArea.value = JSON.stringify(schemaForm?.value() ?? {}, null, 2);
      } catch {
        // Keep the last JSON text.
      }
      formBox.hidden = true;
      jsonBox.hidden = false;
    } else {
      let value: unknown;
      try {
        value = JSON.parse(jsonArea.value) as unknown;
      } catch {
        jsonToggle.checked = true;
        jsonError.textContent = "Fix the JSON before going back to the form.";
        return;
      }
      renderForm(value);
      formBox.hidden = false;
      jsonBox.hidden = true;
    }
    onEdit();
  });
  jsonArea.addEventListener("input", onEdit);
  nameInput.addEventListener("input", onEdit);
  tenantInput.addEventListener("input", onEdit);
  typeSelect.addEventListener("change", () => {
    renderForm(example());
    onEdit();
  });

  void ctx.client.call<SchemaResult>("fediversity.schema.get").then(
    (r) => {
      if (disposed) return;
      types = r.deployment_types;
      const names = Object.keys(types).sort();
      replace(typeSelect, ...names.map((n) => h("option", { value: n }, n)));
      const preferred = route.type ?? (route.deployment && types[route.deployment] ? route.deployment : null);
      if (preferred && types[preferred]) typeSelect.value = preferred;
      renderForm(example());
      void check(false);
    },
    (err: unknown) => {
      replace(formBox, h("p", { class: "error-box" }, `The deployment types could not be loaded: ${(err as Error).message}`));
    },
  );

  return {
    title: route.deployment ? `Change ${route.deployment}` : "New deployment",
    element,
    dispose() {
      disposed = true;
      clearTimeout(validateTimer);
    },
  };
}
