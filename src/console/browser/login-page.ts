/** Sign-in: authid and ticket (or WAMP-CRA secret); the page opens its own WAMP session. */
import type { Page } from "./app-context.js";
import { h } from "./dom.js";
import { connect, toConsoleError, webSocketUrl, type ConnectionEvents, type WampClient } from "./wamp-client.js";

/** Only the authid is remembered (sessionStorage, this tab); the ticket never is. */
const authidKey = "fediversity-console.authid";

export function createLoginPage(events: ConnectionEvents, onSignedIn: (client: WampClient) => void): Page {
  const error = h("div", { id: "login-error", class: "error-box", role: "alert" });
  const authid = h("input", { id: "authid", name: "authid", autocomplete: "username", required: true, spellcheck: "false", autocapitalize: "none" });
  authid.value = sessionStorage.getItem(authidKey) ?? "";
  const secret = h("input", { id: "secret", name: "secret", type: "password", autocomplete: "current-password", required: true });
  const ticket = h("input", { type: "radio", name: "method", id: "method-ticket", value: "ticket", checked: true });
  const cra = h("input", { type: "radio", name: "method", id: "method-cra", value: "wampcra" });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    { class: "login", "aria-describedby": "login-help" },
    h("p", { id: "login-help" }, "Sign in with the authid and ticket (or WAMP-CRA secret) the operator gave you. The console talks to the service's WAMP API from your browser, with exactly your permissions."),
    h("div", { class: "field" }, h("label", { for: "authid" }, "Authid"), authid),
    h("div", { class: "field" }, h("label", { for: "secret" }, "Ticket or secret"), secret),
    h(
      "fieldset",
      { class: "inline" },
      h("legend", {}, "Authentication method"),
      h("span", {}, ticket, h("label", { for: "method-ticket" }, "Ticket")),
      h("span", {}, cra, h("label", { for: "method-cra" }, "WAMP-CRA secret")),
    ),
    error,
    submit,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.textContent = "";
    if (!authid.value.trim() || !secret.value) {
      error.textContent = "Enter both the authid and the ticket or secret.";
      (authid.value.trim() ? secret : authid).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Signing in…";
    connect(webSocketUrl(location), { authid: authid.value.trim(), secret: secret.value, method: cra.checked ? "wampcra" : "ticket" }, events).then(
      (client) => {
        sessionStorage.setItem(authidKey, client.principal.authid);
        secret.value = "";
        onSignedIn(client);
      },
      (err: unknown) => {
        submit.disabled = false;
        submit.textContent = "Sign in";
        error.textContent = toConsoleError(err).message;
        secret.select();
        secret.focus();
      },
    );
  });
  const element = h("section", { class: "page narrow", "aria-labelledby": "page-title" }, h("h1", { id: "page-title", tabindex: -1 }, "Sign in"), form);
  return { title: "Sign in", element, dispose: () => {} };
}
