/**
 * A form generated from a deployment type's JSON Schema: text, number, checkbox and select inputs
 * for the properties it understands, nested objects as fieldsets, anything else as a JSON text
 * field. Every input has a label and its description and error are tied to it (aria-describedby),
 * so the ajv problems (`configuration.a.b`) land on the right field.
 */
import type { JsonSchema } from "./api-types.js";
import { h, replace } from "./dom.js";
import type { Problem } from "./validator.js";

export interface SchemaForm {
  readonly element: HTMLElement;
  /** The configuration the inputs describe (empty optional inputs are left out). */
  value(): unknown;
  /** Shows problems on their fields; returns those that matched no field. */
  showProblems(problems: readonly Problem[]): Problem[];
  onChange(listener: () => void): void;
}

type Reader = () => { set: boolean; value: unknown } | { invalid: string };

interface Field {
  readonly path: string;
  readonly input: HTMLElement;
  readonly error: HTMLElement;
}

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
}

const idOf = (path: string) => `cfg-${path.replace(/[^a-zA-Z0-9_-]/g, "-")}`;

export function createSchemaForm(schema: JsonSchema, initial: unknown): SchemaForm {
  const fields: Field[] = [];
  const listeners: (() => void)[] = [];
  const changed = () => listeners.forEach((l) => l());

  function describe(id: string, s: JsonSchema, extra: string[] = []): { ids: string; nodes: HTMLElement[] } {
    const nodes: HTMLElement[] = [];
    const hints = [s.description, ...extra]
      .filter((t): t is string => Boolean(t))
      .map((t) => (/[.!?]$/.test(t) ? t : `${t}.`))
      .join(" ");
    if (hints) nodes.push(h("p", { class: "hint", id: `${id}-hint` }, hints));
    const error = h("p", { class: "field-error", id: `${id}-error` });
    nodes.push(error);
    return { ids: [hints ? `${id}-hint` : "", `${id}-error`].filter(Boolean).join(" "), nodes };
  }

  function constraints(s: JsonSchema): string[] {
    const out: string[] = [];
    if (s.minimum !== undefined && s.maximum !== undefined) out.push(`From ${s.minimum} to ${s.maximum}.`);
    else if (s.minimum !== undefined) out.push(`At least ${s.minimum}.`);
    else if (s.maximum !== undefined) out.push(`At most ${s.maximum}.`);
    if (s.maxLength !== undefined) out.push(`Up to ${s.maxLength} characters.`);
    return out;
  }

  function build(s: JsonSchema, path: string, name: string, value: unknown, required: boolean): { el: HTMLElement; read: Reader } {
    const id = idOf(path);
    const labelText = `${s.title ?? name}${required ? " (required)" : ""}`;
    const t = typeOf(s);
    if (t === "object" && s.properties) {
      const obj = (value && typeof value === "object" && !Array.isArray(value) ? value : {}) as Record<string, unknown>;
      const parts = Object.entries(s.properties).map(([k, sub]) => ({ k, ...build(sub, `${path}.${k}`, k, obj[k], s.required?.includes(k) ?? false) }));
      const { ids, nodes } = describe(id, s);
      const error = nodes[nodes.length - 1] as HTMLElement;
      const fs = h("fieldset", { id, "aria-describedby": ids }, h("legend", {}, labelText), ...nodes, ...parts.map((p) => p.el));
      fields.push({ path, input: fs, error });
      return {
        el: fs,
        read: () => {
          // Properties this form does not know are kept as they were.
          const out: Record<string, unknown> = { ...obj };
          for (const p of parts) {
            const r = p.read();
            if ("invalid" in r) return r;
            if (r.set) out[p.k] = r.value;
            else delete out[p.k];
          }
          return { set: required || Object.keys(out).length > 0, value: out };
        },
      };
    }
    const { ids, nodes } = describe(id, s, constraints(s));
    const error = nodes[nodes.length - 1] as HTMLElement;
    const common = { id, name: path, "aria-describedby": ids, oninput: changed, onchange: changed };
    if (t === "boolean") {
      const input = h("input", { ...common, type: "checkbox", checked: value === true });
      fields.push({ path, input, error });
      const known = typeof value === "boolean";
      return {
        el: h("div", { class: "field check" }, input, h("label", { for: id }, labelText), ...nodes),
        read: () => ({ set: known || input.checked || required, value: input.checked }),
      };
    }
    if (s.enum && (t === "string" || t === undefined)) {
      const select = h("select", common, required ? null : h("option", { value: "" }, "(not set)"), ...s.enum.map((v) => h("option", { value: String(v), selected: v === value }, String(v))));
      fields.push({ path, input: select, error });
      return { el: h("div", { class: "field" }, h("label", { for: id }, labelText), select, ...nodes), read: () => (select.value === "" ? { set: false, value: undefined } : { set: true, value: select.value }) };
    }
    if (t === "array" && s.items?.enum) {
      const chosen = new Set(Array.isArray(value) ? value : []);
      const boxes = s.items.enum.map((v, i) => {
        const cid = `${id}-${i}`;
        return { v, box: h("input", { type: "checkbox", id: cid, value: String(v), checked: chosen.has(v), onchange: changed }), cid };
      });
      const fs = h("fieldset", { id, "aria-describedby": ids, class: "inline" }, h("legend", {}, labelText), ...boxes.map((b) => h("span", {}, b.box, h("label", { for: b.cid }, String(b.v)))), ...nodes);
      fields.push({ path, input: fs, error });
      return { el: fs, read: () => ({ set: required || Array.isArray(value) || boxes.some((b) => b.box.checked), value: boxes.filter((b) => b.box.checked).map((b) => b.v) }) };
    }
    if (t === "integer" || t === "number") {
      const input = h("input", { ...common, type: "text", inputmode: t === "integer" ? "numeric" : "decimal", value: typeof value === "number" ? String(value) : "" });
      fields.push({ path, input, error });
      return {
        el: h("div", { class: "field" }, h("label", { for: id }, labelText), input, ...nodes),
        read: () => {
          const text = input.value.trim();
          if (text === "") return { set: false, value: undefined };
          const n = Number(text);
          // Not a number: ajv reports the type error on this field.
          return { set: true, value: Number.isFinite(n) ? n : text };
        },
      };
    }
    if (t === "string") {
      const input = h("input", { ...common, type: "text", value: typeof value === "string" ? value : "", spellcheck: "false" });
      fields.push({ path, input, error });
      return { el: h("div", { class: "field" }, h("label", { for: id }, labelText), input, ...nodes), read: () => (input.value === "" && !required ? { set: false, value: undefined } : { set: true, value: input.value }) };
    }
    // Anything else: JSON text.
    const area = h("textarea", { ...common, rows: 3, spellcheck: "false" });
    area.value = value === undefined ? "" : JSON.stringify(value, null, 2);
    fields.push({ path, input: area, error });
    return {
      el: h("div", { class: "field" }, h("label", { for: id }, `${labelText} (JSON)`), area, ...nodes),
      read: () => {
        if (area.value.trim() === "") return { set: false, value: undefined };
        try {
          return { set: true, value: JSON.parse(area.value) as unknown };
        } catch {
          return { invalid: `${path}: not valid JSON` };
        }
      },
    };
  }

  const root = build(schema, "configuration", "Configuration", initial, true);
  return {
    element: root.el,
    value() {
      const r = root.read();
      if ("invalid" in r) throw new Error(r.invalid);
      return r.value;
    },
    showProblems(problems) {
      const unmatched: Problem[] = [];
      for (const f of fields) {
        replace(f.error);
        f.input.removeAttribute("aria-invalid");
      }
      for (const p of problems) {
        // The deepest field whose path is the problem's or contains it.
        const f = fields.filter((x) => p.path === x.path || p.path.startsWith(`${x.path}.`)).sort((a, b) => b.path.length - a.path.length)[0];
        if (!f) {
          unmatched.push(p);
          continue;
        }
        const extra = p.path === f.path ? "" : `${p.path.slice(f.path.length + 1)} `;
        f.error.append(h("span", {}, `${extra}${p.message}`), " ");
        f.input.setAttribute("aria-invalid", "true");
      }
      return unmatched;
    },
    onChange(l) {
      listeners.push(l);
    },
  };
}
