// What both services' pages share: building elements without innerHTML, calling the JSON API,
// showing errors where they belong, busy buttons, copy buttons and confirmation dialogs.
// Served as /assets/ui-kit.js by both services (service_kit::web::UI_KIT_JS); no build step.
"use strict";

const UI = (() => {
  // Headers every API call carries; each service adds its own (X-Requested-With, requesttoken).
  const defaultHeaders = { Accept: "application/json" };

  // el("a", {href: "/x", class: "link"}, "text", otherNode): text is always text, never HTML.
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else if (value === true) {
        node.setAttribute(key, "");
      } else {
        node.setAttribute(key, String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // fetch with the session cookie and JSON both ways. Never throws: a network failure is
  // {status: 0}. `body` is the parsed JSON, or null.
  async function request(method, url, payload, extraHeaders) {
    const headers = Object.assign({}, defaultHeaders, extraHeaders || {});
    const init = { method, headers, credentials: "same-origin" };
    if (payload !== undefined) {
      headers["Content-Type"] = headers["Content-Type"] || "application/json";
      init.body = typeof payload === "string" ? payload : JSON.stringify(payload);
    }
    try {
      const response = await fetch(url, init);
      const text = await response.text();
      let body = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch (_) {
        body = null;
      }
      return { status: response.status, ok: response.ok, body, text };
    } catch (error) {
      return { status: 0, ok: false, body: null, text: String(error) };
    }
  }

  // The message shown next to `control` (an input or a button), announced to screen readers.
  function showError(control, message) {
    const id = (control.id || control.name || "control") + "-error";
    let box = document.getElementById(id);
    if (!box) {
      box = el("p", { id, class: "field-error", role: "alert" });
      control.insertAdjacentElement("afterend", box);
    }
    box.textContent = message;
    if (control.matches("input, select, textarea")) {
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", id);
    }
    return box;
  }

  // Removes the messages of showError inside `scope` (a form, a section, the document).
  function clearErrors(scope) {
    const root = scope || document;
    root.querySelectorAll(".field-error").forEach((box) => box.remove());
    root.querySelectorAll("[aria-invalid]").forEach((control) => {
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
    });
  }

  // A message at the top of `container`: kind is "error", "success" or "info".
  function notice(container, message, kind) {
    const box = el("div", { class: "notice notice-" + (kind || "info"), role: kind === "error" ? "alert" : "status" }, message);
    container.querySelectorAll(":scope > .notice").forEach((old) => old.remove());
    container.prepend(box);
    return box;
  }

  // Disables `button` while `work` runs, so a double click sends one request.
  async function busy(button, work) {
    if (button.disabled) return undefined;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    try {
      return await work();
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  // A live region that reads short confirmations ("Copied") to screen readers.
  function announce(message) {
    let region = document.getElementById("ui-announcer");
    if (!region) {
      region = el("div", { id: "ui-announcer", class: "visually-hidden", "aria-live": "polite" });
      document.body.append(region);
    }
    region.textContent = "";
    setTimeout(() => (region.textContent = message), 50);
  }

  // Copies the value of the element that `button`'s data-copy names (a CSS selector).
  async function copyFrom(button) {
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    const value = source.value !== undefined ? source.value : source.textContent;
    try {
      await navigator.clipboard.writeText(value);
    } catch (_) {
      // Clipboard API refused (plain http on a non-local name): select it for Ctrl+C instead.
      source.focus();
      if (source.select) source.select();
    }
    const label = button.textContent;
    button.textContent = "Copied";
    announce("Copied to the clipboard");
    setTimeout(() => (button.textContent = label), 1500);
  }

  // A modal confirmation. Resolves true when confirmed. With `typeToConfirm`, the confirm button
  // stays disabled until that exact text is typed.
  function confirm({ title, body, confirmLabel, danger, typeToConfirm, typeLabel }) {
    return new Promise((resolve) => {
      const titleId = "dialog-title-" + Math.random().toString(36).slice(2);
      const confirmButton = el("button", { type: "submit", class: danger ? "button danger" : "button primary", value: "confirm" }, confirmLabel || "Confirm");
      const cancelButton = el("button", { type: "button", class: "button", value: "cancel" }, "Cancel");
      const parts = [el("h2", { id: titleId }, title)];
      for (const paragraph of [].concat(body || [])) parts.push(el("p", {}, paragraph));
      let typed = null;
      if (typeToConfirm) {
        const inputId = titleId + "-input";
        typed = el("input", { id: inputId, type: "text", autocomplete: "off", spellcheck: "false" });
        parts.push(el("label", { for: inputId }, typeLabel || "Type " + typeToConfirm + " to confirm"), typed);
        confirmButton.disabled = true;
        typed.addEventListener("input", () => (confirmButton.disabled = typed.value !== typeToConfirm));
      }
      const form = el("form", { method: "dialog" }, ...parts, el("div", { class: "dialog-actions" }, cancelButton, confirmButton));
      const dialog = el("dialog", { class: "dialog", "aria-labelledby": titleId }, form);
      document.body.append(dialog);
      let answer = false;
      const opener = document.activeElement;
      cancelButton.addEventListener("click", () => dialog.close());
      form.addEventListener("submit", () => (answer = !confirmButton.disabled));
      dialog.addEventListener("close", () => {
        dialog.remove();
        if (opener && opener.focus) opener.focus();
        resolve(answer);
      });
      dialog.showModal();
      (typed || cancelButton).focus();
    });
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (button) {
      event.preventDefault();
      copyFrom(button);
    }
  });

  return { defaultHeaders, el, request, showError, clearErrors, notice, busy, announce, confirm };
})();
