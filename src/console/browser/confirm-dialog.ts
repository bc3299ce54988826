/** A modal confirmation (the native <dialog>: focus stays inside, Escape cancels). */
import { h } from "./dom.js";

export interface ConfirmOptions {
  readonly title: string;
  readonly body: (string | Node)[];
  readonly confirmLabel: string;
  readonly danger?: boolean;
}

/** Resolves true when confirmed; the dialog removes itself. */
export function confirmAction(opts: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const title = h("h2", { id: "dialog-title" }, opts.title);
    const ok = h("button", { type: "submit", value: "ok", class: opts.danger ? "danger" : "primary" }, opts.confirmLabel);
    const cancel = h("button", { type: "submit", value: "cancel" }, "Keep as it is");
    const form = h("form", { method: "dialog" }, title, h("div", { class: "dialog-body" }, ...opts.body), h("div", { class: "dialog-actions" }, cancel, ok));
    const dialog = h("dialog", { "aria-labelledby": "dialog-title" }, form);
    document.body.append(dialog);
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok");
      dialog.remove();
    });
    dialog.showModal();
    cancel.focus();
  });
}
