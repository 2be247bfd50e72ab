// The OpenProject side's screens. The server sends a shell naming the screen in
// <main data-page>; this script builds it from REST API v3 calls (session cookie plus
// X-Requested-With), so every action here is a call a script can make too. Served as
// /assets/op-pages.js; ui-kit.js (UI) loads first.
"use strict";

(() => {
  const { el, request, showError, clearErrors, notice, busy, confirm } = UI;
  UI.defaultHeaders["X-Requested-With"] = "XMLHttpRequest";
  UI.defaultHeaders.Accept = "application/hal+json, application/json";

  const main = document.getElementById("content");
  if (!main || !main.dataset.page) return;
  const heading = main.querySelector("h1");

  const NEXTCLOUD = "urn:openproject-org:api:v3:storages:Nextcloud";
  const STATE = "urn:openproject-org:api:v3:storages:authorization:";
  const FLASH_KEY = "op-flash";

  // --- API helpers -------------------------------------------------------------------------

  const api = (method, path, payload) => request(method, path, payload);
  const elements = (body) => (body && body._embedded && body._embedded.elements) || [];
  const idOf = (href) => (href ? href.split("/").pop() : "");
  const filter = (name, value) =>
    "filters=" + encodeURIComponent(JSON.stringify([{ [name]: { operator: "=", values: [String(value)] } }]));

  // The API's answer as plain sentences, each with the attribute it concerns (if any).
  function problems(result, what) {
    const body = result.body;
    if (result.status === 0) {
      return [{ message: "The server could not be reached. Check your network connection and try again." }];
    }
    if (result.status === 401) return [{ message: "Your session has ended. Reload the page and sign in again." }];
    if (result.status === 403) {
      return [{ message: "You are not allowed to do this. Ask an administrator of this project or of OpenProject." }];
    }
    if (result.status === 404) {
      return [{ message: (what || "This item") + " no longer exists, or you cannot see it. Reload the page." }];
    }
    if (body && body._type === "Error") {
      if (body._embedded && Array.isArray(body._embedded.errors)) {
        return body._embedded.errors.map((e) => ({
          attribute: e._embedded && e._embedded.details ? e._embedded.details.attribute : undefined,
          message: e.message,
        }));
      }
      const attribute = body._embedded && body._embedded.details ? body._embedded.details.attribute : undefined;
      return [{ attribute, message: body.message }];
    }
    return [{ message: "Something went wrong (HTTP " + result.status + "). Please try again." }];
  }

  // Shows each problem next to the control of its attribute (`fields` maps attributes to
  // controls), the rest next to `fallback` (usually the button that was pressed).
  function showProblems(result, fields, fallback, what) {
    const rest = [];
    for (const problem of problems(result, what)) {
      const control = problem.attribute && fields[problem.attribute];
      if (control) showError(control, problem.message.trim());
      else rest.push(problem.message.trim());
    }
    if (rest.length) showError(fallback, rest.join("\n"));
    const first = main.querySelector("[aria-invalid=true]");
    if (first) first.focus();
  }

  function failure(result, what) {
    return el("p", { class: "notice notice-error", role: "alert" }, problems(result, what).map((p) => p.message).join("\n"));
  }

  // A message for the next screen (after a navigation), shown once.
  function flashNext(message) {
    sessionStorage.setItem(FLASH_KEY, message);
  }
  function showFlash() {
    const message = sessionStorage.getItem(FLASH_KEY);
    if (message) {
      sessionStorage.removeItem(FLASH_KEY);
      notice(main, message, "success");
    }
  }

  // --- building blocks ---------------------------------------------------------------------

  let uid = 0;
  const nextId = (prefix) => prefix + "-" + ++uid;

  function field(label, control, hint) {
    control.id = control.id || nextId("field");
    return el("div", { class: "field" }, el("label", { for: control.id }, label), control, hint ? el("p", { class: "hint" }, hint) : null);
  }

  function textInput(name, value, extra) {
    return el("input", Object.assign({ type: "text", name, value: value || "", autocomplete: "off", spellcheck: "false" }, extra || {}));
  }

  // A read-only value with a "Copy" button.
  function copyField(label, value) {
    const input = el("input", { type: "text", readonly: true, value, id: nextId("copy") });
    const button = el("button", { type: "button", class: "button", "data-copy": "#" + input.id, "aria-label": "Copy " + label }, "Copy");
    return el("div", { class: "field" }, el("label", { for: input.id }, label), el("div", { class: "copy-row" }, input, button));
  }

  function section(title, ...children) {
    const id = nextId("section");
    return el("section", { class: "section", "aria-labelledby": id }, el("h2", { id }, title), ...children);
  }

  function badge(text, kind) {
    return el("span", { class: "badge badge-" + kind }, text);
  }

  function table(headers, rows, caption) {
    return el(
      "table",
      { class: "op-table" },
      caption ? el("caption", { class: "visually-hidden" }, caption) : null,
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows)
    );
  }

  // A modal that goes away when closed (by its Cancel button or Escape) and gives the focus back
  // to what opened it.
  function closesBackTo(dialog, cancel, opener) {
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      opener.focus();
    });
  }

  function loading(text) {
    return el("p", { class: "loading", role: "status" }, text || "Loading…");
  }

  function setTitle(text) {
    heading.textContent = text;
    document.title = text + " · " + document.title.split(" · ").slice(1).join(" · ");
  }

  // --- Administration → File storages ------------------------------------------------------

  const setupState = (storage) => (storage.configured ? badge("Setup complete", "success") : badge("Setup incomplete", "warning"));
  const hostOf = (storage) => (storage._links.origin ? storage._links.origin.href : "");

  async function healthBadge(storageId) {
    const result = await api("GET", "/api/v3/storages/" + storageId + "/health");
    if (!result.ok) return badge("Unknown", "neutral");
    return result.body.status === "healthy" ? badge("Healthy", "success") : badge("Unhealthy", "failure");
  }

  async function storagesPage() {
    showFlash();
    main.append(el("div", { class: "toolbar" }, el("a", { class: "button primary", href: "/admin/settings/storages/new" }, "+ Storage")));
    const status = main.appendChild(loading());
    const result = await api("GET", "/api/v3/storages");
    status.remove();
    if (!result.ok) return main.append(failure(result));
    const storages = elements(result.body);
    if (!storages.length) {
      main.append(el("p", {}, "No file storage is set up yet. Add one with “+ Storage”."));
      return;
    }
    const rows = storages.map((storage) => {
      const health = el("td", {}, "Checking…");
      healthBadge(storage.id).then((b) => health.replaceChildren(b));
      return el(
        "tr",
        {},
        el("td", {}, el("a", { href: "/admin/settings/storages/" + storage.id + "/edit" }, storage.name)),
        el("td", {}, storage._links.type ? storage._links.type.title : "Nextcloud"),
        el("td", {}, hostOf(storage)),
        el("td", {}, setupState(storage)),
        health
      );
    });
    main.append(table(["Name", "Provider", "Host", "Setup", "Health"], rows, "File storages"));
  }

  // The values of OpenProject's OAuth application, shown once.
  function applicationValues(application, intro) {
    return [
      el("p", {}, intro),
      copyField("Client ID", application.clientId),
      copyField("Client secret", application.clientSecret),
      el(
        "p",
        { class: "notice notice-warning" },
        "This is the only time the client secret is shown. Copy it now: once you leave this page it cannot be shown again, only replaced."
      ),
    ];
  }

  // The form for Nextcloud's OAuth values (setup step 4, or their replacement).
  function nextcloudOAuthForm(storage, submitLabel, onSaved, askFirst) {
    const clientId = textInput("clientId");
    const clientSecret = textInput("clientSecret", "", { type: "password", autocomplete: "new-password" });
    const submit = el("button", { type: "submit", class: "button primary" }, submitLabel);
    const form = el(
      "form",
      { class: "op-form", novalidate: true },
      el("p", {}, "In Nextcloud, open Administration settings → OpenProject integration and copy the values it shows for OpenProject."),
      field("Client ID", clientId),
      field("Client secret", clientSecret),
      el("div", { class: "actions" }, submit)
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        clearErrors(form);
        if (askFirst && !(await askFirst())) return;
        const result = await api("POST", "/api/v3/storages/" + storage.id + "/oauth_client_credentials", {
          clientId: clientId.value.trim(),
          clientSecret: clientSecret.value.trim(),
        });
        if (!result.ok) return showProblems(result, { clientId, clientSecret }, submit, "The storage");
        await onSaved(result.body);
      });
    });
    return form;
  }

  function newStoragePage() {
    const provider = el("select", { name: "provider" }, el("option", { value: NEXTCLOUD, selected: true }, "Nextcloud"));
    const name = textInput("name", "Nextcloud");
    const host = textInput("host", "", { type: "url", placeholder: "https://nextcloud.example.com", inputmode: "url" });
    const submit = el("button", { type: "submit", class: "button primary" }, "Save and continue setup");
    const progress = el("p", { class: "hint", role: "status" });
    const method = connectionChoice();
    const form = el(
      "form",
      { class: "op-form", novalidate: true },
      el("h2", {}, "General information"),
      field("Provider type", provider),
      field("Name", name, "The name users see, e.g. in a work package's Files tab."),
      field("Host URL", host, "The address of your Nextcloud, e.g. https://nextcloud.example.com. OpenProject checks it right away."),
      method.fieldset,
      el("div", { class: "actions" }, submit, el("a", { class: "button", href: "/admin/settings/storages" }, "Cancel")),
      progress
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        clearErrors(form);
        progress.textContent = "Checking the host…";
        const result = await api("POST", "/api/v3/storages", {
          name: name.value.trim(),
          applicationPassword: "",
          _links: { origin: { href: host.value.trim() }, type: { href: provider.value } },
        });
        progress.textContent = "";
        if (!result.ok) return showProblems(result, { name, host, providerType: provider }, submit);
        history.replaceState(null, "", "/admin/settings/storages/" + result.body.id + "/edit");
        if (method.pairing()) showPairingStep(result.body);
        else showApplicationStep(result.body);
      });
    });
    main.append(form);
    name.focus();
  }

  // How the wizard connects Nextcloud: one pairing code (the default), or the guide's four
  // copied values.
  function connectionChoice() {
    const option = (value, label, hint, checked) => {
      const input = el("input", { type: "radio", name: "connect", value, id: nextId("connect"), checked });
      const hintId = input.id + "-hint";
      input.setAttribute("aria-describedby", hintId);
      return {
        input,
        row: el("div", { class: "choice" }, input, el("div", {}, el("label", { for: input.id }, label), el("p", { class: "hint", id: hintId }, hint))),
      };
    };
    const pairing = option(
      "pairing",
      "Pair with a code",
      "OpenProject shows one code; you paste it in Nextcloud, and both sides exchange their OAuth values themselves.",
      true
    );
    const manual = option("manual", "Enter OAuth values by hand", "Copy the client ID and secret from each side into the other, as in the setup guide.", false);
    return {
      fieldset: el("fieldset", { class: "choices" }, el("legend", {}, "How to connect Nextcloud"), pairing.row, manual.row),
      pairing: () => pairing.input.checked,
    };
  }

  // The answer to POST …/pairing_code in words: the code to copy, when it expires, where it goes.
  function pairingCodeView(answer) {
    const expires = new Date(answer.expiresAt);
    const expiry = el(
      "p",
      { class: "pairing-expiry" },
      "Valid until ",
      el("time", { datetime: answer.expiresAt }, expires.toLocaleString()),
      ", and only once. A code expires 10 minutes after it is made."
    );
    // Said once the code is dead, unless another code replaced this one.
    setTimeout(() => {
      if (expiry.isConnected) {
        expiry.className = "notice notice-warning";
        expiry.setAttribute("role", "status");
        expiry.textContent = "This code has expired: create another one to pair.";
      }
    }, Math.max(0, expires.getTime() - Date.now()));
    return [
      copyField("Pairing code", answer.code),
      expiry,
      el(
        "p",
        {},
        "In Nextcloud, open Administration settings → OpenProject integration → ",
        el("strong", {}, "Pair with OpenProject"),
        " and paste the code. Nextcloud shows this OpenProject's address for you to confirm, then both sides are set up."
      ),
    ];
  }

  // A fresh code for `storage`, shown in `area` (or why there is none next to `button`).
  async function issuePairingCode(storage, area, button) {
    clearErrors(area.parentNode);
    const result = await api("POST", "/api/v3/storages/" + storage.id + "/pairing_code");
    if (!result.ok) {
      showProblems(result, {}, button, "This storage");
      return false;
    }
    area.replaceChildren(...pairingCodeView(result.body));
    return true;
  }

  // Wizard step with "Pair with a code": the code, a way to get another, and a wait for
  // Nextcloud to redeem it (the storage then has Nextcloud's OAuth values).
  async function showPairingStep(storage) {
    main.querySelectorAll(":scope > :not(h1)").forEach((node) => node.remove());
    setTitle(storage.name);
    const area = el("div", { class: "pairing-code" });
    const again = el("button", { type: "button", class: "button" }, "Create a new code");
    const waiting = el("p", { class: "pairing-wait", role: "status" }, "Waiting for Nextcloud to use the code…");
    const step = section("Pairing code", el("p", {}, "Storage saved. Pair it with Nextcloud with this code."), area, el("div", { class: "actions" }, again), waiting);
    main.append(step);
    const title = step.querySelector("h2");
    title.setAttribute("tabindex", "-1");
    title.focus();
    again.addEventListener("click", () =>
      busy(again, async () => {
        if (await issuePairingCode(storage, area, again)) area.querySelector("input").focus();
      })
    );
    await busy(again, () => issuePairingCode(storage, area, again));
    waitForPairing(storage, waiting);
  }

  // Asks every 2 s whether Nextcloud has redeemed a code; then goes to the storage page.
  function waitForPairing(storage, line) {
    const timer = setInterval(async () => {
      const result = await api("GET", "/api/v3/storages/" + storage.id);
      if (!result.ok) {
        // A network hiccup is retried; a storage that is gone or a session that ended is not.
        if ([401, 403, 404].includes(result.status)) {
          clearInterval(timer);
          line.replaceWith(failure(result, "This storage"));
        }
        return;
      }
      if (result.body._embedded && result.body._embedded.oauthClientCredentials) {
        clearInterval(timer);
        line.textContent = "Paired: the storage is set up.";
        flashNext("Paired and set up: the storage " + storage.name + " is ready. Enable it in a project under Project settings → File storages.");
        location.assign("/admin/settings/storages/" + storage.id + "/edit");
      }
    }, 2000);
  }

  // Wizard step: OpenProject's values for Nextcloud, then Nextcloud's values for OpenProject.
  function showApplicationStep(storage) {
    main.querySelectorAll(":scope > :not(h1)").forEach((node) => node.remove());
    setTitle(storage.name);
    const application = storage._embedded.oauthApplication;
    const done = el("button", { type: "button", class: "button primary" }, "Done. Continue setup");
    const step = section(
      "OAuth application details",
      ...applicationValues(application, "Storage saved. Enter these values in Nextcloud: Administration settings → OpenProject integration → OpenProject OAuth values."),
      el("div", { class: "actions" }, done)
    );
    main.append(step);
    step.querySelector("h2").setAttribute("tabindex", "-1");
    step.querySelector("h2").focus();
    done.addEventListener("click", () => {
      step.remove();
      const form = nextcloudOAuthForm(storage, "Save and complete setup", async () => {
        flashNext("Setup complete: the storage " + storage.name + " is ready. Enable it in a project under Project settings → File storages.");
        location.assign("/admin/settings/storages/" + storage.id + "/edit");
      });
      const next = section("Nextcloud OAuth", form);
      main.append(next);
      form.querySelector("input").focus();
    });
  }

  async function storagePage() {
    const id = main.dataset.id;
    showFlash();
    const status = main.appendChild(loading());
    const result = await api("GET", "/api/v3/storages/" + id);
    status.remove();
    if (!result.ok) return main.append(failure(result, "This storage"));
    const storage = result.body;
    setTitle(storage.name);
    main.append(el("p", {}, setupState(storage)));
    main.append(generalSection(storage), pairingSection(storage), healthSection(storage), applicationSection(storage), clientSection(storage), deleteSection(storage));
  }

  function generalSection(storage) {
    const name = textInput("name", storage.name);
    const host = textInput("host", hostOf(storage), { type: "url" });
    const submit = el("button", { type: "submit", class: "button primary" }, "Save");
    const form = el("form", { class: "op-form", novalidate: true }, field("Name", name), field("Host URL", host), el("div", { class: "actions" }, submit));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        clearErrors(form);
        const result = await api("PATCH", "/api/v3/storages/" + storage.id, {
          name: name.value.trim(),
          _links: { origin: { href: host.value.trim() } },
        });
        if (!result.ok) return showProblems(result, { name, host }, submit, "This storage");
        setTitle(result.body.name);
        storage.name = result.body.name;
        notice(form, "Saved.", "success");
      });
    });
    return section("General information", form);
  }

  const EVENTS = { oauth_values_replaced: "OAuth values replaced", storage_deleted: "Storage deleted", integration_reset: "Integration reset" };
  const EXCHANGE_STATES = { delivered: "Delivered", pending: "Waiting to be delivered", stuck: "Stuck", refused: "Refused" };
  const when = (iso) => el("time", { datetime: iso }, new Date(iso).toLocaleString());

  // The last message between the two sides, in words; stuck or refused ones as a warning with
  // their reason.
  function lastExchange(exchange) {
    const event = EVENTS[exchange.event] || exchange.event;
    const state = EXCHANGE_STATES[exchange.state] || exchange.state;
    const parts = ["Last exchange with Nextcloud: " + event + ". ", badge(state, exchange.state === "delivered" ? "success" : exchange.state === "pending" ? "neutral" : "warning"), " (", when(exchange.at), ")"];
    if (exchange.attempts > 1) parts.push(", after " + exchange.attempts + " attempts");
    parts.push(".");
    if (exchange.state === "stuck" || exchange.state === "refused") {
      return el("p", { class: "notice notice-warning" }, ...parts, exchange.lastError ? " Reason: " + exchange.lastError : "");
    }
    return el("p", {}, ...parts);
  }

  // Pairing by one code: the state (GET …/pairing) and a new code on demand.
  function pairingSection(storage) {
    const state = el("div", { class: "pairing-state", "aria-live": "polite" }, loading("Reading the pairing state…"));
    const area = el("div", { class: "pairing-code" });
    const create = el("button", { type: "button", class: "button" }, "Create a pairing code");
    const configured = !!(storage._embedded && storage._embedded.oauthClientCredentials);
    let waiting = null;
    create.addEventListener("click", () =>
      busy(create, async () => {
        if (!(await issuePairingCode(storage, area, create))) return;
        area.querySelector("input").focus();
        if (!configured && !waiting) {
          waiting = el("p", { class: "pairing-wait", role: "status" }, "Waiting for Nextcloud to use the code…");
          area.after(waiting);
          waitForPairing(storage, waiting);
        }
      })
    );
    (async () => {
      const result = await api("GET", "/api/v3/storages/" + storage.id + "/pairing");
      if (!result.ok) return state.replaceChildren(failure(result, "This storage"));
      const pairing = result.body;
      const parts = [];
      if (pairing.paired) parts.push(el("p", {}, badge("Paired", "success"), " with Nextcloud at ", el("strong", {}, pairing.nextcloudUrl), " since ", when(pairing.pairedAt), "."));
      else parts.push(el("p", {}, badge("Not paired", "neutral"), " No Nextcloud is paired with this storage by a code."));
      if (pairing.resetAt) {
        parts.push(
          el(
            "p",
            { class: "notice notice-warning" },
            "This storage needs setup: Nextcloud reset the integration (",
            when(pairing.resetAt),
            "). Pair again with a new code (“Create a pairing code”), or enter the OAuth values by hand under OpenProject OAuth and Nextcloud OAuth."
          )
        );
      }
      if (pairing.lastExchange) parts.push(lastExchange(pairing.lastExchange));
      state.replaceChildren(...parts);
    })();
    return section(
      "Pairing",
      el("p", {}, "Pairing sets up both sides with one code: paste it in Nextcloud under Administration settings → OpenProject integration → Pair with OpenProject."),
      state,
      area,
      el("div", { class: "actions" }, create)
    );
  }

  const CHECK_NAMES = {
    storage_configured: "Storage configured",
    host_url_accessible: "Host reachable",
    capabilities_request: "Nextcloud capabilities",
    dependencies_check: "OpenProject integration app installed",
    dependencies_versions: "App versions",
    existing_token: "Your Nextcloud connection",
    user_bound_request: "Request as you",
    group_folder_app: "Team folders app",
    userless_access: "Application password",
    files_request: "Team folder listing",
    group_folder_presence: "Team folder present",
    group_folder_contents: "Team folder contents",
  };
  const STATE_BADGES = { success: ["OK", "success"], warning: ["Warning", "warning"], failure: ["Failed", "failure"], skipped: ["Skipped", "neutral"] };

  // Filled in when the live checks answer (up to a few seconds with Nextcloud down).
  function healthSection(storage) {
    const body = el("div", { "aria-live": "polite" });
    const again = el("button", { type: "button", class: "button" }, "Check again");
    const render = async () => {
      body.replaceChildren(loading("Checking the storage…"));
      const result = await api("GET", "/api/v3/storages/" + storage.id + "/health");
      if (!result.ok) return body.replaceChildren(failure(result, "This storage"));
      const report = result.body;
      const overall = report.status === "healthy" ? badge("Healthy", "success") : badge("Unhealthy", "failure");
      const items = [];
      for (const group of report.groups) {
        for (const check of group.checks) {
          const [label, kind] = STATE_BADGES[check.state] || [check.state, "neutral"];
          items.push(
            el(
              "li",
              { class: "health-check" },
              badge(label, kind),
              " ",
              CHECK_NAMES[check.key] || check.key,
              check.message && check.state !== "success" ? el("p", { class: "health-fix" }, check.message) : null
            )
          );
        }
      }
      body.replaceChildren(el("p", {}, "Health: ", overall, " (checked " + new Date(report.checkedAt).toLocaleString() + ")"), el("ul", { class: "file-list" }, items));
    };
    again.addEventListener("click", () => busy(again, render));
    render();
    return section("Health status", body, el("div", { class: "actions" }, again));
  }

  function applicationSection(storage) {
    const application = storage._embedded && storage._embedded.oauthApplication;
    const area = el("div", {});
    const replace = el("button", { type: "button", class: "button" }, "Replace OpenProject OAuth values");
    const current = application ? el("p", {}, "Client ID: ", el("code", {}, application.clientId)) : el("p", {}, "No OAuth application exists.");
    replace.addEventListener("click", () =>
      busy(replace, async () => {
        clearErrors(area.parentNode);
        const yes = await confirm({
          title: "Replace OpenProject OAuth values?",
          body: [
            "OpenProject makes a new client ID and secret for Nextcloud. The current ones, and every token Nextcloud holds, stop working at once.",
            "Every Nextcloud user must authorize OpenProject again once the Nextcloud administrator has entered the new values.",
          ],
          confirmLabel: "Replace",
          danger: true,
        });
        if (!yes) return;
        const result = await api("POST", "/api/v3/storages/" + storage.id + "/oauth_application");
        if (!result.ok) return showProblems(result, {}, replace, "This storage");
        current.replaceChildren("Client ID: ", el("code", {}, result.body.clientId));
        area.replaceChildren(...applicationValues(result.body, "New values made. Enter them in Nextcloud: Administration settings → OpenProject integration → OpenProject OAuth values."));
        area.querySelector("input").focus();
      })
    );
    return section("OpenProject OAuth", el("p", {}, "The values Nextcloud uses to call OpenProject."), current, area, el("div", { class: "actions" }, replace));
  }

  function clientSection(storage) {
    const credentials = storage._embedded && storage._embedded.oauthClientCredentials;
    const parts = [el("p", {}, "The values OpenProject uses to call Nextcloud.")];
    if (credentials) {
      parts.push(el("p", {}, "Client ID: ", el("code", {}, credentials.clientId)));
      parts.push(
        nextcloudOAuthForm(
          storage,
          "Replace Nextcloud OAuth values",
          async () => {
            flashNext("Nextcloud OAuth values replaced. Every OpenProject user connects to Nextcloud again.");
            location.reload();
          },
          () =>
            confirm({
              title: "Replace Nextcloud OAuth values?",
              body: ["Every OpenProject user's connection to this Nextcloud ends: each user must log in to Nextcloud again."],
              confirmLabel: "Replace",
              danger: true,
            })
        )
      );
    } else {
      parts.push(
        el("p", { class: "notice notice-warning" }, "Setup is not complete: enter the values Nextcloud shows for OpenProject."),
        nextcloudOAuthForm(storage, "Save and complete setup", async () => {
          flashNext("Setup complete: the storage " + storage.name + " is ready.");
          location.reload();
        })
      );
    }
    return section("Nextcloud OAuth", ...parts);
  }

  function deleteSection(storage) {
    const remove = el("button", { type: "button", class: "button danger" }, "Delete");
    remove.addEventListener("click", () =>
      busy(remove, async () => {
        clearErrors(remove.parentNode);
        const yes = await confirm({
          title: "Delete the storage " + storage.name + "?",
          body: [
            "Deleted with it: the storage in every project, every file link to its files on work packages, both sides' OAuth values in OpenProject, and every user's connection to it.",
            "Files in Nextcloud are not touched. Reset the OpenProject integration in Nextcloud separately.",
          ],
          confirmLabel: "Delete storage",
          danger: true,
          typeToConfirm: storage.name,
          typeLabel: "Type the storage name (" + storage.name + ") to confirm",
        });
        if (!yes) return;
        const result = await api("DELETE", "/api/v3/storages/" + storage.id);
        if (!result.ok) return showProblems(result, {}, remove, "This storage");
        flashNext("The storage " + storage.name + " was deleted.");
        location.assign("/admin/settings/storages");
      })
    );
    return section("Delete", el("p", {}, "Deletes the storage with its project settings, file links, OAuth values and users' connections."), el("div", { class: "actions" }, remove));
  }

  // --- Projects ------------------------------------------------------------------------------

  async function projectsPage() {
    const status = main.appendChild(loading());
    const result = await api("GET", "/api/v3/projects?pageSize=1000");
    status.remove();
    if (!result.ok) return main.append(failure(result));
    const projects = elements(result.body);
    if (!projects.length) return main.append(el("p", {}, "You are not a member of any project yet."));
    main.append(el("ul", { class: "link-list" }, projects.map((p) => el("li", {}, el("a", { href: "/projects/" + encodeURIComponent(p.identifier) }, p.name)))));
  }

  // The project and its modules, with the left menu filled in. Null (after showing why) when
  // the project cannot be read.
  async function loadProject(current) {
    const key = main.dataset.project;
    const result = await api("GET", "/api/v3/projects/" + encodeURIComponent(key));
    if (!result.ok) {
      main.append(failure(result, "This project"));
      return null;
    }
    const project = result.body;
    const modules = await api("GET", "/api/v3/projects/" + project.id + "/modules");
    project.modules = modules.ok ? modules.body.enabled : [];
    const base = "/projects/" + encodeURIComponent(project.identifier);
    const link = (label, href, name) => el("li", {}, el("a", { href, "aria-current": current === name ? "page" : false }, label));
    const settings = [link("Modules", base + "/settings/modules", "modules")];
    if (project.modules.includes("storages")) settings.push(link("File storages", base + "/settings/project_storages", "project_storages"));
    const menu = document.getElementById("project-menu");
    if (menu) {
      menu.replaceChildren(
        el("p", { class: "op-sidebar-title" }, project.name),
        el(
          "ul",
          {},
          link("Work packages", base, "work_packages"),
          link("Project settings", base + "/settings/modules", "settings"),
          current === "modules" || current === "project_storages" ? el("li", {}, el("ul", { class: "submenu" }, settings)) : null
        )
      );
    }
    return project;
  }

  async function projectPage() {
    const project = await loadProject("work_packages");
    if (!project) return;
    setTitle(project.name);
    main.append(el("h2", {}, "Work packages"));
    const result = await api("GET", "/api/v3/projects/" + project.id + "/work_packages?pageSize=100&" + "filters=" + encodeURIComponent("[]"));
    if (!result.ok) return main.append(failure(result, "This project"));
    const packages = elements(result.body);
    if (!packages.length) return main.append(el("p", {}, "This project has no work packages yet."));
    const rows = packages.map((wp) =>
      el(
        "tr",
        {},
        el("td", {}, String(wp.id)),
        el("td", {}, el("a", { href: "/work_packages/" + wp.id }, wp.subject)),
        el("td", {}, wp._links.status.title || ""),
        el("td", {}, wp._links.assignee && wp._links.assignee.href ? wp._links.assignee.title : "–")
      )
    );
    main.append(table(["ID", "Subject", "Status", "Assignee"], rows, "Work packages"));
  }

  const MODULE_LABELS = { work_package_tracking: "Work packages", storages: "File storages" };

  async function projectModulesPage() {
    const project = await loadProject("modules");
    if (!project) return;
    setTitle("Project settings: Modules");
    showFlash();
    const modules = await api("GET", "/api/v3/projects/" + project.id + "/modules");
    if (!modules.ok) return main.append(failure(modules, "This project"));
    const boxes = modules.body.available.map((name) => {
      const box = el("input", { type: "checkbox", name, id: "module-" + name, checked: modules.body.enabled.includes(name) });
      return { name, box, row: el("div", { class: "field" }, el("label", { class: "checkbox", for: box.id }, box, MODULE_LABELS[name] || name)) };
    });
    const submit = el("button", { type: "submit", class: "button primary" }, "Save");
    const form = el("form", { class: "op-form" }, el("fieldset", {}, el("legend", {}, "Enabled modules"), boxes.map((b) => b.row)), el("div", { class: "actions" }, submit));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        clearErrors(form);
        for (const { name, box } of boxes) {
          const enabled = modules.body.enabled.includes(name);
          if (box.checked === enabled) continue;
          const result = await api(box.checked ? "PUT" : "DELETE", "/api/v3/projects/" + project.id + "/modules/" + name);
          if (!result.ok) return showProblems(result, {}, submit, "This project");
          modules.body.enabled = result.body.enabled;
        }
        flashNext("Modules saved.");
        location.reload();
      });
    });
    main.append(form);
  }

  async function projectStoragesPage() {
    const project = await loadProject("project_storages");
    if (!project) return;
    setTitle("Project settings: File storages");
    showFlash();
    if (!project.modules.includes("storages")) {
      main.append(
        el("p", { class: "notice notice-info" }, "The File storages module is not enabled in this project. ", el("a", { href: "/projects/" + encodeURIComponent(project.identifier) + "/settings/modules" }, "Enable it under Modules."))
      );
      return;
    }
    const [linked, all] = await Promise.all([
      api("GET", "/api/v3/project_storages?" + filter("projectId", project.id)),
      api("GET", "/api/v3/storages"),
    ]);
    if (!linked.ok) return main.append(failure(linked, "This project"));
    const projectStorages = elements(linked.body);
    const enabledIds = projectStorages.map((ps) => idOf(ps._links.storage.href));
    const addable = elements(all.body).filter((s) => !enabledIds.includes(String(s.id)));

    const add = el("button", { type: "button", class: "button primary", "aria-expanded": "false" }, "+ Storage");
    const toolbar = el("div", { class: "toolbar" }, add);
    const select = el("select", { name: "storage" }, addable.map((s) => el("option", { value: s.id }, s.name + " (" + hostOf(s) + ")")));
    const submit = el("button", { type: "submit", class: "button primary" }, "Add");
    const form = el("form", { class: "op-form section", hidden: true }, el("h2", {}, "Add a file storage"), field("Storage", select), el("div", { class: "actions" }, submit));
    add.addEventListener("click", () => {
      form.hidden = !form.hidden;
      add.setAttribute("aria-expanded", String(!form.hidden));
      if (!form.hidden) {
        if (!addable.length) {
          clearErrors(form);
          showError(select, "Every storage is already enabled in this project, or none is set up yet.");
        }
        select.focus();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, async () => {
        clearErrors(form);
        if (!select.value) return showError(select, "Choose a storage.");
        const result = await api("POST", "/api/v3/project_storages", {
          projectFolderMode: "inactive",
          _links: { project: { href: "/api/v3/projects/" + project.id }, storage: { href: "/api/v3/storages/" + select.value } },
        });
        if (!result.ok) return showProblems(result, { storage: select, project: select }, submit, "This project");
        flashNext("Storage added: members can now link its files to work packages.");
        location.reload();
      });
    });
    main.append(toolbar, form);

    if (!projectStorages.length) {
      main.append(el("p", {}, "No file storage is enabled in this project yet."));
      return;
    }
    const rows = projectStorages.map((ps) => {
      const name = ps._links.storage.title;
      const remove = el("button", { type: "button", class: "button", "aria-label": "Remove " + name }, "Remove");
      remove.addEventListener("click", () =>
        busy(remove, async () => {
          clearErrors(remove.parentNode);
          const yes = await confirm({
            title: "Remove " + name + " from this project?",
            body: ["Every file link from this project's work packages to files in " + name + " is deleted with it. The files in Nextcloud stay."],
            confirmLabel: "Remove storage",
            danger: true,
          });
          if (!yes) return;
          const result = await api("DELETE", "/api/v3/project_storages/" + ps.id);
          if (!result.ok) return showProblems(result, {}, remove, "This project storage");
          flashNext("Storage " + name + " removed from the project.");
          location.reload();
        })
      );
      return el("tr", {}, el("td", {}, name), el("td", {}, ps._links.creator ? ps._links.creator.title : ""), el("td", {}, remove));
    });
    main.append(table(["Storage", "Added by", "Actions"], rows, "File storages of this project"));
  }

  // --- Work package and its Files tab --------------------------------------------------------

  const FILE_STATUS = {
    "urn:openproject-org:api:v3:file-links:permission:ViewAllowed": ["Viewable", "success"],
    "urn:openproject-org:api:v3:file-links:permission:ViewNotAllowed": ["No permission", "warning"],
    "urn:openproject-org:api:v3:file-links:NotFound": ["Not found", "failure"],
    "urn:openproject-org:api:v3:file-links:Error": ["Error", "failure"],
  };

  async function workPackagePage() {
    const id = main.dataset.id;
    const tab = main.dataset.tab;
    const result = await api("GET", "/api/v3/work_packages/" + id);
    if (!result.ok) return main.append(failure(result, "This work package"));
    const wp = result.body;
    setTitle("#" + wp.id + " " + wp.subject);
    const projectId = idOf(wp._links.project.href);
    main.dataset.project = projectId;
    await loadProject("work_packages");
    main.append(
      el(
        "dl",
        { class: "attributes" },
        el("dt", {}, "Subject"),
        el("dd", {}, wp.subject),
        el("dt", {}, "Status"),
        el("dd", {}, wp._links.status.title || ""),
        el("dt", {}, "Assignee"),
        el("dd", {}, wp._links.assignee && wp._links.assignee.href ? wp._links.assignee.title : "–"),
        el("dt", {}, "Project"),
        el("dd", {}, el("a", { href: "/projects/" + projectId }, wp._links.project.title || ""))
      )
    );
    const tabLink = (label, name) => el("a", { href: "/work_packages/" + wp.id + "/" + name, "aria-current": tab === name ? "page" : false }, label);
    main.append(el("nav", { class: "tabs", "aria-label": "Work package tabs" }, tabLink("Overview", "overview"), tabLink("Files", "files")));
    const panel = el("div", { id: "tab-panel" });
    main.append(panel);
    if (tab === "files") await filesTab(wp, projectId, panel);
    else panel.append(el("h2", {}, "Description"), el("p", {}, (wp.description && wp.description.raw) || "No description."));
  }

  async function filesTab(wp, projectId, panel) {
    panel.append(el("h2", {}, "Files"));
    showFlash();
    const status = panel.appendChild(loading("Loading the files…"));
    const [projectStorages, links] = await Promise.all([
      api("GET", "/api/v3/project_storages?" + filter("projectId", projectId)),
      api("GET", "/api/v3/work_packages/" + wp.id + "/file_links"),
    ]);
    status.remove();
    if (!projectStorages.ok) return panel.append(failure(projectStorages));
    if (!links.ok) return panel.append(failure(links, "This work package"));
    const storages = elements(projectStorages.body);
    if (!storages.length) return panel.append(el("p", {}, "No file storage is enabled in this project. A project administrator adds one under Project settings → File storages."));
    const canLink = Boolean(wp._links.addFileLink);
    for (const ps of storages) {
      const storageHref = ps._links.storage.href;
      const own = elements(links.body).filter((link) => link._links.storage.href === storageHref);
      panel.append(await storageFiles(wp, projectId, storageHref, ps._links.storage.title, own, canLink));
    }
  }

  async function storageFiles(wp, projectId, storageHref, name, links, canLink) {
    const box = el("section", { class: "section", "aria-label": name }, el("h3", {}, name));
    const storage = await api("GET", storageHref);
    const stateHref = storage.ok ? storage.body._links.authorizationState.href : STATE + "Error";
    const connected = stateHref === STATE + "Connected";
    if (stateHref === STATE + "NotConnected" || stateHref === STATE + "FailedAuthorization") {
      box.append(
        el("p", { class: "notice notice-info" }, "You are not logged in to Nextcloud (" + name + "). Log in to see your files' status and to link files."),
        el("div", { class: "actions" }, el("a", { class: "button primary", href: connectUrl(storage.body, location.pathname) }, "Log in to Nextcloud"))
      );
    } else if (!connected) {
      box.append(el("p", { class: "notice notice-error", role: "alert" }, "The storage " + name + " cannot be reached or is not fully set up. Ask an administrator to look at its health status."));
    }
    if (links.length) {
      box.append(
        el(
          "ul",
          { class: "file-list", "aria-label": "Files linked from " + name },
          links.map((link) => fileLinkRow(link, storage.ok ? hostOf(storage.body) : ""))
        )
      );
    } else {
      box.append(el("p", {}, "No files of " + name + " are linked to this work package."));
    }
    if (connected && canLink) {
      const pick = el("button", { type: "button", class: "button primary" }, "Link existing files");
      pick.addEventListener("click", () => openPicker(wp, storage.body, pick));
      const actions = el("div", { class: "actions" }, pick);
      // The storage offers an upload for this project when the caller may manage file links.
      const upload = (storage.body._links.prepareUpload || []).find((action) => String(action.payload.projectId) === String(projectId));
      if (upload) {
        const open = el("button", { type: "button", class: "button" }, "Upload files");
        open.addEventListener("click", () => openUploader(wp, storage.body, upload, open));
        actions.append(open);
      }
      box.append(actions);
    }
    return box;
  }

  // A linked file: its name, live status, where it opens in Nextcloud, and unlink. The link goes
  // straight to Nextcloud (what the API's `open` redirects to): a browser following an API URL
  // sends no X-Requested-With, and the API would answer it with a Basic-auth challenge.
  function fileLinkRow(link, host) {
    const name = link.originData.name;
    const [label, kind] = link._links.status ? FILE_STATUS[link._links.status.href] || ["Error", "failure"] : ["Unknown", "neutral"];
    const row = el("li", {}, el("span", { class: "file-name" }, name), badge(label, kind));
    if (host) {
      const href = host + "index.php/f/" + encodeURIComponent(link.originData.id) + "?openfile=1";
      row.append(el("a", { href, target: "_blank", rel: "noopener", "aria-label": "Open in Nextcloud: " + name }, "Open in Nextcloud"));
    }
    if (link._links.delete) {
      const unlink = el("button", { type: "button", class: "button", "aria-label": "Unlink " + name }, "Unlink");
      unlink.addEventListener("click", () =>
        busy(unlink, async () => {
          clearErrors(row);
          const result = await api("DELETE", link._links.delete.href);
          if (!result.ok && result.status !== 404) return showProblems(result, {}, unlink, "This file link");
          flashNext("Unlinked " + name + ". The file stays in Nextcloud.");
          location.reload();
        })
      );
      row.append(unlink);
    }
    return row;
  }

  // OpenProject's connect flow for `storage`, coming back to `destination`.
  function connectUrl(storage, destination) {
    const authorize = storage._links.authorize && storage._links.authorize.href;
    const clientId = authorize ? new URL(authorize).searchParams.get("client_id") : "";
    return (
      "/oauth_clients/" + encodeURIComponent(clientId) + "/ensure_connection?storage_id=" + encodeURIComponent(storage.id) + "&destination_url=" + encodeURIComponent(destination)
    );
  }

  const DIRECTORY = "application/x-op-directory";

  // Folder navigation in the caller's Nextcloud files of `storage`, shared by the file picker
  // and the upload's location picker: the trail from the root in `crumbs`, the current
  // folder's entries in `list` (`item(file, browse)` renders one, or null to leave it out),
  // and `onFolder(folder)` told of each folder shown (null when it could not be read).
  // Returns browse(location, focus): focus moves to the first entry unless `focus` is false.
  function folderNavigator(storage, crumbs, list, item, onFolder, empty) {
    const browse = async (location_, focus) => {
      list.replaceChildren(el("li", { role: "status" }, "Loading…"));
      const result = await api("GET", "/api/v3/storages/" + storage.id + "/files?parent=" + encodeURIComponent(location_));
      if (!result.ok) {
        list.replaceChildren(el("li", { role: "alert", class: "error" }, problems(result, "This folder").map((p) => p.message).join(" ")));
        if (onFolder) onFolder(null);
        return;
      }
      const listing = result.body;
      const trail = (listing.ancestors || []).concat([listing.parent]);
      crumbs.replaceChildren(
        ...trail.flatMap((folder, i) => [
          i > 0 ? el("span", { "aria-hidden": "true" }, "/") : null,
          i === trail.length - 1
            ? el("span", { "aria-current": "location" }, folder.name)
            : el("button", { type: "button", class: "link", onclick: () => browse(folder.location) }, folder.name),
        ]).filter(Boolean)
      );
      const items = listing.files.map((file) => item(file, browse)).filter(Boolean);
      list.replaceChildren(...(items.length ? items : [el("li", {}, empty || "This folder is empty.")]));
      if (onFolder) onFolder(listing.parent);
      const first = list.querySelector("input, button");
      if (first && focus !== false) first.focus();
    };
    return browse;
  }

  // The file picker: browses the user's Nextcloud folders and links the chosen files at once.
  function openPicker(wp, storage, opener) {
    const titleId = nextId("picker");
    const list = el("ul", { class: "picker-list", "aria-label": "Files and folders" });
    const crumbs = el("nav", { class: "breadcrumbs", "aria-label": "Folder" });
    const chosen = new Map();
    const link = el("button", { type: "submit", class: "button primary", disabled: true }, "Link files");
    const cancel = el("button", { type: "button", class: "button" }, "Cancel");
    const form = el("form", { method: "dialog" }, el("h2", { id: titleId }, "Link existing files from " + storage.name), crumbs, list, el("div", { class: "dialog-actions" }, cancel, link));
    const dialog = el("dialog", { class: "dialog", "aria-labelledby": titleId }, form);
    document.body.append(dialog);
    const updateButton = () => {
      link.disabled = chosen.size === 0;
      link.textContent = chosen.size ? "Link " + chosen.size + (chosen.size === 1 ? " file" : " files") : "Link files";
    };
    const browse = folderNavigator(storage, crumbs, list, (file, go) => {
      const folder = file.mimeType === DIRECTORY;
      const box = el("input", { type: "checkbox", id: nextId("pick"), checked: chosen.has(file.id) });
      box.addEventListener("change", () => {
        if (box.checked) chosen.set(file.id, file);
        else chosen.delete(file.id);
        updateButton();
      });
      return el(
        "li",
        {},
        box,
        el("label", { for: box.id }, (folder ? "📁 " : "") + file.name),
        folder ? el("button", { type: "button", class: "link", "aria-label": "Open folder " + file.name, onclick: () => go(file.location) }, "Open") : null
      );
    });
    closesBackTo(dialog, cancel, opener);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(link, async () => {
        clearErrors(form);
        const files = [...chosen.values()];
        const result = await api("POST", "/api/v3/work_packages/" + wp.id + "/file_links", {
          _type: "Collection",
          _embedded: {
            elements: files.map((file) => ({
              originData: {
                id: String(file.id),
                name: file.name,
                mimeType: file.mimeType,
                createdAt: file.createdAt,
                lastModifiedAt: file.lastModifiedAt,
                createdByName: file.createdByName || "",
                lastModifiedByName: file.lastModifiedByName || "",
              },
              _links: { storage: { href: "/api/v3/storages/" + storage.id } },
            })),
          },
        });
        if (!result.ok) return showProblems(result, {}, link, "This work package");
        flashNext("Linked " + files.length + (files.length === 1 ? " file." : " files."));
        location.reload();
      });
    });
    dialog.showModal();
    browse("/");
  }

  // "Upload files": local files go straight from this page to Nextcloud. For each file,
  // prepare_upload gives a single-use link into the folder chosen with the location picker,
  // the file is posted there (multipart, never overwriting: Nextcloud numbers a taken name),
  // and the new file is linked to the work package as "Link existing files" links.
  function openUploader(wp, storage, action, opener) {
    const titleId = nextId("upload");
    const input = el("input", { type: "file", id: nextId("upload-files"), name: "files", multiple: true });
    const crumbs = el("nav", { class: "breadcrumbs", "aria-label": "Folder" });
    const list = el("ul", { class: "picker-list", "aria-label": "Folders" });
    const target = el("p", { class: "upload-target" });
    const progress = el("progress", { max: "100", value: "0", hidden: true, "aria-label": "Upload progress" });
    const status = el("p", { role: "status", class: "upload-status" });
    const upload = el("button", { type: "submit", class: "button primary", disabled: true }, "Upload");
    const cancel = el("button", { type: "button", class: "button" }, "Cancel");
    const form = el(
      "form",
      { method: "dialog" },
      el("h2", { id: titleId }, "Upload files to " + storage.name),
      el("div", { class: "field" }, el("label", { for: input.id }, "Files to upload"), input),
      el("h3", {}, "Location"),
      crumbs,
      list,
      target,
      progress,
      status,
      el("div", { class: "dialog-actions" }, cancel, upload)
    );
    const dialog = el("dialog", { class: "dialog", "aria-labelledby": titleId }, form);
    document.body.append(dialog);
    let folder = null;
    const update = () => {
      const count = input.files.length;
      upload.disabled = count === 0 || !folder;
      upload.textContent = count > 1 ? "Upload " + count + " files" : "Upload";
    };
    input.addEventListener("change", update);
    const browse = folderNavigator(
      storage,
      crumbs,
      list,
      (file, go) =>
        file.mimeType === DIRECTORY
          ? el("li", {}, el("button", { type: "button", class: "link", "aria-label": "Open folder " + file.name, onclick: () => go(file.location) }, "📁 " + file.name))
          : null,
      (shown) => {
        folder = shown;
        target.textContent = shown ? "Upload to: " + shown.location : "";
        update();
      },
      "No folders here. The files go into this folder."
    );
    closesBackTo(dialog, cancel, opener);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(upload, async () => {
        clearErrors(form);
        const files = [...input.files];
        const done = [];
        for (const [index, file] of files.entries()) {
          status.textContent = "Uploading " + file.name + " (" + (index + 1) + " of " + files.length + ")…";
          progress.value = 0;
          progress.hidden = false;
          const failed = await uploadAndLink(wp, storage, action, folder, file, (fraction) => (progress.value = Math.round(fraction * 100)));
          if (failed) {
            progress.hidden = true;
            status.textContent = done.length ? "Uploaded and linked: " + done.join(", ") + "." : "";
            showError(upload, file.name + ": " + failed);
            if (done.length) flashNext("Uploaded and linked " + done.length + (done.length === 1 ? " file." : " files."));
            return;
          }
          done.push(file.name);
        }
        status.textContent = "Done.";
        flashNext("Uploaded and linked " + done.length + (done.length === 1 ? " file." : " files."));
        location.reload();
      });
    });
    dialog.showModal();
    input.focus();
    browse("/", false);
  }

  // One file: the upload link, the upload itself, the file link. Null when all went well,
  // else what failed, as a sentence.
  async function uploadAndLink(wp, storage, action, folder, file, onProgress) {
    const prepared = await api("POST", action.href, { projectId: action.payload.projectId, fileName: file.name, parent: String(folder.id) });
    if (!prepared.ok) return problems(prepared, "This storage").map((p) => p.message).join(" ");
    const destination = prepared.body._links.destination;
    const sent = await postFile(destination.href, file, onProgress);
    if (sent.status !== 200 && sent.status !== 201) return uploadFailure(sent);
    const uploaded = sent.body;
    const now = new Date().toISOString();
    const linked = await api("POST", "/api/v3/work_packages/" + wp.id + "/file_links", {
      _type: "Collection",
      _embedded: {
        elements: [
          {
            originData: {
              id: String(uploaded.file_id),
              name: uploaded.file_name,
              mimeType: file.type || "application/octet-stream",
              createdAt: now,
              lastModifiedAt: now,
              createdByName: "",
              lastModifiedByName: "",
            },
            _links: { storage: { href: "/api/v3/storages/" + storage.id } },
          },
        ],
      },
    });
    if (!linked.ok) return "uploaded as " + uploaded.file_name + ", but not linked: " + problems(linked, "This work package").map((p) => p.message).join(" ");
    return null;
  }

  // POSTs `file` to Nextcloud's upload link (no credentials: the link is the permission),
  // reporting progress; resolves to {status, body} (status 0 when Nextcloud was not reached).
  function postFile(url, file, onProgress) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.responseType = "json";
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && event.total) onProgress(event.loaded / event.total);
      });
      xhr.addEventListener("load", () => resolve({ status: xhr.status, body: xhr.response }));
      xhr.addEventListener("error", () => resolve({ status: 0, body: null }));
      const data = new FormData();
      data.append("overwrite", "false");
      data.append("file", file, file.name);
      xhr.send(data);
    });
  }

  // Nextcloud's refusal of an upload, for people.
  function uploadFailure(sent) {
    const said = sent.body && sent.body.error ? " (" + sent.body.error + ")" : "";
    switch (sent.status) {
      case 0:
        return "Nextcloud could not be reached. Check your connection and try again.";
      case 413: {
        const limit = sent.body && sent.body.upload_limit;
        return "The file is larger than Nextcloud accepts" + (limit ? " (at most " + Math.floor(limit / 1048576) + " MiB)." : ".");
      }
      case 507:
        return "Your Nextcloud storage is full: the file does not fit in your quota.";
      default:
        return "Nextcloud refused the upload" + said + ".";
    }
  }

  // --- My account ----------------------------------------------------------------------------

  async function myAccountPage() {
    const result = await api("GET", "/api/v3/users/me");
    if (!result.ok) return main.append(failure(result));
    const me = result.body;
    main.append(
      el("dl", { class: "attributes" }, el("dt", {}, "Name"), el("dd", {}, me.name), el("dt", {}, "Username"), el("dd", {}, me.login || ""), el("dt", {}, "Email"), el("dd", {}, me.email || ""))
    );
  }

  const STATE_LABELS = {
    Connected: ["Connected", "success"],
    NotConnected: ["Not connected", "neutral"],
    FailedAuthorization: ["Authorization failed", "failure"],
    Error: ["Error", "failure"],
  };

  async function myStoragesPage() {
    showFlash();
    const status = main.appendChild(loading());
    const result = await api("GET", "/api/v3/storages");
    status.remove();
    if (!result.ok) return main.append(failure(result));
    const storages = elements(result.body);
    if (!storages.length) return main.append(el("p", {}, "No file storage is enabled in your projects."));
    main.append(el("p", {}, "Your connection to each file storage. Connected, OpenProject shows and links your Nextcloud files."));
    const rows = storages.map((storage) => {
      const key = storage._links.authorizationState.href.replace(STATE, "");
      const [label, kind] = STATE_LABELS[key] || [key, "neutral"];
      const action = el("td", {});
      if (key === "Connected") {
        const disconnect = el("button", { type: "button", class: "button", "aria-label": "Disconnect from " + storage.name }, "Disconnect");
        disconnect.addEventListener("click", () =>
          busy(disconnect, async () => {
            clearErrors(action);
            const yes = await confirm({
              title: "Disconnect from " + storage.name + "?",
              body: ["OpenProject forgets your Nextcloud login for this storage. Your file links stay; you log in again to see them."],
              confirmLabel: "Disconnect now",
            });
            if (!yes) return;
            const done = await api("DELETE", "/api/v3/storages/" + storage.id + "/authorization");
            if (!done.ok) return showProblems(done, {}, disconnect, "This storage");
            flashNext("Disconnected from " + storage.name + ".");
            location.reload();
          })
        );
        action.append(disconnect);
      } else if (storage._links.authorize) {
        action.append(el("a", { class: "button primary", href: connectUrl(storage, location.pathname), "aria-label": "Connect to " + storage.name }, "Connect"));
      } else {
        action.append("Not available: ask an administrator to complete the storage's setup.");
      }
      return el("tr", {}, el("td", {}, storage.name), el("td", {}, hostOf(storage)), el("td", {}, badge(label, kind)), action);
    });
    main.append(table(["Storage", "Host", "Connection", "Action"], rows, "Your file storage connections"));
  }

  const PAGES = {
    storages: storagesPage,
    "storage-new": newStoragePage,
    storage: storagePage,
    projects: projectsPage,
    project: projectPage,
    "project-modules": projectModulesPage,
    "project-storages": projectStoragesPage,
    "work-package": workPackagePage,
    "my-account": myAccountPage,
    "my-storages": myStoragesPage,
  };

  const build = PAGES[main.dataset.page];
  if (build) {
    Promise.resolve(build()).finally(() => main.setAttribute("data-ready", "true"));
  }
})();
