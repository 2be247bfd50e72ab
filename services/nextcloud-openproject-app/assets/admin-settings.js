// Administration settings → OpenProject integration: the guide's Nextcloud steps, each a call
// to the app's admin routes (PUT admin-config, POST nc-oauth, DELETE setup, the checks).
"use strict";

(() => {
  const root = document.getElementById("admin-settings");
  if (!root) return;
  const flag = (name) => root.dataset[name] === "true";
  const setFlag = (name, value) => (root.dataset[name] = String(value));
  const byId = (id) => document.getElementById(id);
  const show = (id, visible) => (byId(id).hidden = !visible);

  // --- Status line (check-admin-config, and which step is next) ---------------------------
  const status = byId("config-status");
  const STEPS = [
    ["hostSaved", "save the OpenProject server"],
    ["openprojectOauthSaved", "save the OpenProject OAuth settings"],
    ["nextcloudClient", "create the Nextcloud OAuth client"],
    ["projectFolderDecided", "save the project folders step"],
  ];
  async function refreshStatus() {
    const check = await NC.app("GET", "/check-admin-config");
    status.classList.remove("status-ok", "status-incomplete");
    if (!check.ok || !check.body) {
      status.textContent = NC.explain(check, "Checking the configuration");
      return;
    }
    if (check.body.config_status_without_project_folder) {
      status.classList.add("status-ok");
      status.textContent = "The OpenProject integration is set up completely." +
        (check.body.project_folder_setup_status ? " Project folders are managed automatically." : "");
    } else {
      const next = STEPS.find(([name]) => !flag(name));
      status.classList.add("status-incomplete");
      status.textContent = "The setup is incomplete. Next: " + (next ? next[1] : "check each step") + ".";
    }
  }

  async function refreshProjectFolderStatus() {
    const line = byId("project-folder-status");
    const answer = await NC.app("GET", "/project-folder-status");
    if (!answer.ok || !answer.body) {
      line.textContent = NC.explain(answer, "Checking the project folders");
      return;
    }
    setFlag("projectFolderReady", answer.body.result);
    const password = flag("appPassword") ? "An application password for OpenProject exists." : "No application password for OpenProject exists.";
    line.textContent = (answer.body.result
      ? "The \"OpenProject\" user, group and team folder are set up. "
      : "The \"OpenProject\" user, group and team folder are not set up. ") + password;
  }

  function saved(section, message) {
    UI.notice(section, message || "Saved.", "success");
    refreshStatus();
  }

  // --- Pair with OpenProject: one code from OpenProject instead of steps 1–3 -----------------
  const FLASH_KEY = "nc-admin-flash";
  const EVENTS = { oauth_values_replaced: "OAuth values replaced", storage_deleted: "Storage deleted", integration_reset: "Integration reset" };
  const EXCHANGE_STATES = { delivered: "Delivered", pending: "Waiting to be delivered", stuck: "Stuck", refused: "Refused" };
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
  const pairingSection = byId("pairing-section");
  const pairingForm = byId("pairing-form");
  const code = byId("pairing-code");
  const continueButton = byId("pairing-continue");
  const confirmBox = byId("pairing-confirm");
  const confirmButton = byId("pairing-confirm-button");
  let inspected = null;

  // The last message between the two sides, in words; stuck or refused ones as a warning with
  // their reason.
  function lastExchange(exchange) {
    const event = EVENTS[exchange.event] || exchange.event;
    const state = EXCHANGE_STATES[exchange.state] || exchange.state;
    const line = "Last exchange with OpenProject: " + event + ". " + state + " (" + when(exchange.at) + ")" +
      (exchange.attempts > 1 ? ", after " + exchange.attempts + " attempts." : ".");
    if (exchange.state === "stuck" || exchange.state === "refused") {
      return UI.el("p", { class: "notice notice-warning exchange" }, line, exchange.lastError ? " Reason: " + exchange.lastError : "");
    }
    return UI.el("p", { class: "hint exchange" }, line);
  }

  async function refreshPairingState() {
    const box = byId("pairing-state");
    const answer = await NC.app("GET", "/pairing");
    if (!answer.ok || !answer.body) {
      box.replaceChildren(UI.el("p", { class: "hint" }, NC.explain(answer, "Reading the pairing state")));
      return;
    }
    const state = answer.body;
    const parts = [];
    if (state.paired) {
      parts.push(UI.el("p", { class: "status-line status-ok" }, "Paired with " + state.openprojectUrl + " since " + when(state.pairedAt) + "."));
    } else {
      parts.push(UI.el("p", { class: "hint" }, "Not paired by a code."));
    }
    if (state.lastExchange) parts.push(lastExchange(state.lastExchange));
    box.replaceChildren(...parts);
  }

  function pairingFailed(message) {
    UI.showError(code, message);
    code.focus();
  }

  pairingForm.addEventListener("submit", (event) => {
    event.preventDefault();
    UI.busy(continueButton, async () => {
      UI.clearErrors(pairingSection);
      const value = code.value.trim();
      if (!value) return pairingFailed("Please paste the pairing code that OpenProject shows.");
      const answer = await NC.app("POST", "/pairing/inspect", { code: value });
      if (!answer.ok || !answer.body) {
        return pairingFailed(answer.status === 400 && answer.body && answer.body.error ? answer.body.error : NC.explain(answer, "Reading the code"));
      }
      inspected = { code: value, openprojectUrl: answer.body.openprojectUrl };
      byId("pairing-url").textContent = inspected.openprojectUrl;
      confirmButton.textContent = "Pair with " + inspected.openprojectUrl;
      byId("pairing-expiry").textContent = answer.body.expiresAt ? "The code is valid until " + when(answer.body.expiresAt) + "." : "";
      pairingForm.hidden = true;
      confirmBox.hidden = false;
      byId("pairing-confirm-title").focus();
    });
  });

  function backToCode() {
    inspected = null;
    UI.clearErrors(pairingSection);
    confirmBox.hidden = true;
    pairingForm.hidden = false;
    code.focus();
  }
  byId("pairing-cancel").addEventListener("click", backToCode);

  confirmButton.addEventListener("click", () => UI.busy(confirmButton, async () => {
    if (!inspected) return;
    UI.clearErrors(pairingSection);
    const answer = await NC.app("POST", "/pairing", inspected);
    if (!answer.ok || !answer.body || !answer.body.status) {
      const message = answer.status === 400 && answer.body && answer.body.error ? answer.body.error : NC.explain(answer, "Pairing");
      confirmBox.hidden = true;
      pairingForm.hidden = false;
      pairingFailed(message);
      return;
    }
    sessionStorage.setItem(FLASH_KEY, "Paired with " + answer.body.openprojectUrl + ": the OpenProject integration is set up.");
    window.location.reload();
  }));

  function showFlash() {
    const message = sessionStorage.getItem(FLASH_KEY);
    if (!message) return;
    sessionStorage.removeItem(FLASH_KEY);
    byId("pairing-title").after(UI.notice(pairingSection, message, "success"));
  }

  // --- 1. OpenProject server: validated live with is-valid-op-instance ---------------------
  const host = byId("openproject-host");
  const hostMessage = byId("host-validation");
  const HOST_RESULTS = {
    invalid: () => "Please enter a URL starting with http:// or https://.",
    local_remote_servers_not_allowed: () => "Accessing OpenProject servers with local addresses is not allowed. An administrator can allow it with the setting NCOA_ALLOW_LOCAL_REMOTE_SERVERS.",
    redirected: (details) => "The given URL redirects to \"" + details + "\". Please use the address it redirects to.",
    not_valid_body: () => "There is no valid OpenProject instance listening at that URL.",
    client_exception: (details) => "The server at that URL answered \"" + details + "\": it does not look like OpenProject.",
    server_exception: (details) => "The server at that URL has a problem (\"" + details + "\"). Try again later.",
    network_error: () => "No server could be reached at that URL. Check the host name and port.",
    request_exception: (details) => "The request to that URL failed (" + details + ").",
  };
  let validation = 0;
  async function validateHost() {
    const mine = ++validation;
    const url = host.value.trim();
    if (!url) return { valid: false, message: "Please enter the OpenProject host." };
    const answer = await NC.app("POST", "/is-valid-op-instance", { url });
    if (mine !== validation) return null;
    if (!answer.ok || !answer.body) return { valid: false, message: NC.explain(answer, "Checking the URL") };
    if (answer.body.result === true) return { valid: true, message: "This is an OpenProject instance." };
    const describe = HOST_RESULTS[answer.body.result];
    return { valid: false, message: describe ? describe(answer.body.details || "") : "The URL could not be checked because of an unexpected error." };
  }
  function showHostResult(result) {
    if (!result) return;
    hostMessage.textContent = result.message;
    hostMessage.className = "validation " + (result.valid ? "valid" : "invalid");
    if (result.valid) host.removeAttribute("aria-invalid");
    else host.setAttribute("aria-invalid", "true");
    host.setAttribute("aria-describedby", "host-validation");
  }
  let typing = null;
  host.addEventListener("input", () => {
    clearTimeout(typing);
    hostMessage.textContent = "";
    typing = setTimeout(async () => showHostResult(await validateHost()), 500);
  });
  byId("server-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const button = byId("server-save");
    UI.busy(button, async () => {
      clearTimeout(typing);
      const result = await validateHost();
      showHostResult(result);
      if (!result || !result.valid) {
        host.focus();
        return;
      }
      const answer = await NC.app("PUT", "/admin-config", { values: { openproject_instance_url: host.value.trim(), authorization_method: "oauth2" } });
      if (!answer.ok) {
        UI.notice(byId("server-section"), NC.explain(answer, "Saving the OpenProject host"), "error");
        return;
      }
      setFlag("hostSaved", true);
      saved(byId("server-section"));
      if (flag("openprojectOauthSaved") && !flag("nextcloudClient")) await createNextcloudClient();
    });
  });

  // --- 2. OpenProject OAuth settings ---------------------------------------------------------
  const clientId = byId("openproject-client-id");
  const clientSecret = byId("openproject-client-secret");
  byId("openproject-oauth-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    UI.busy(byId("openproject-oauth-save"), async () => {
      UI.clearErrors(form);
      let missing = false;
      if (!clientId.value.trim()) {
        UI.showError(clientId, "Please enter the OpenProject OAuth client ID.");
        missing = true;
      }
      if (!clientSecret.value.trim()) {
        UI.showError(clientSecret, "Please enter the OpenProject OAuth client secret.");
        missing = true;
      }
      if (missing) {
        form.querySelector("[aria-invalid]").focus();
        return;
      }
      const values = { openproject_client_id: clientId.value.trim(), openproject_client_secret: clientSecret.value.trim() };
      if (!flag("projectFolderDecided")) {
        // As the guide's step 3: naming both team-folder flags (here: change nothing) ends the
        // fresh setup, so the integration is complete without automatically managed folders.
        values.setup_project_folder = null;
        values.setup_app_password = null;
      }
      const answer = await NC.app("PUT", "/admin-config", { values });
      if (!answer.ok) {
        UI.notice(byId("openproject-oauth-section"), NC.explain(answer, "Saving the OpenProject OAuth settings"), "error");
        return;
      }
      byId("openproject-client-id-stored").textContent = values.openproject_client_id;
      clientSecret.value = "";
      form.hidden = true;
      show("openproject-oauth-saved", true);
      setFlag("openprojectOauthSaved", true);
      setFlag("projectFolderDecided", true);
      saved(byId("openproject-oauth-section"));
      if (flag("hostSaved") && !flag("nextcloudClient")) await createNextcloudClient();
    });
  });
  const replaceOpenProject = byId("replace-openproject-oauth");
  replaceOpenProject.addEventListener("click", () => UI.busy(replaceOpenProject, async () => {
    const sure = await UI.confirm({
      title: "Replace the OpenProject OAuth values?",
      body: [
        "Every user's connection to OpenProject ends now. Users have to connect again once the new values are saved.",
        "Create the new values in OpenProject first: the OAuth application of the Nextcloud file storage.",
      ],
      confirmLabel: "Replace OpenProject OAuth values",
      danger: true,
    });
    if (!sure) return;
    const answer = await NC.app("PUT", "/admin-config", { values: { openproject_client_id: null, openproject_client_secret: null } });
    if (!answer.ok) {
      UI.notice(byId("openproject-oauth-section"), NC.explain(answer, "Replacing the OpenProject OAuth values"), "error");
      return;
    }
    setFlag("openprojectOauthSaved", false);
    show("openproject-oauth-saved", false);
    clientId.value = "";
    clientSecret.value = "";
    byId("openproject-oauth-form").hidden = false;
    clientId.focus();
    saved(byId("openproject-oauth-section"), "The old values are removed. Enter the new ones.");
  }));

  // --- 3. Nextcloud OAuth client: shown once -----------------------------------------------
  async function createNextcloudClient() {
    const answer = await NC.app("POST", "/nc-oauth");
    const section = byId("nextcloud-oauth-section");
    if (!answer.ok || !answer.body) {
      UI.notice(section, NC.explain(answer, "Creating the Nextcloud OAuth client"), "error");
      return;
    }
    byId("nextcloud-client-id").value = answer.body.nextcloud_client_id;
    byId("nextcloud-client-secret").value = answer.body.nextcloud_client_secret;
    byId("nextcloud-client-id-stored").textContent = answer.body.nextcloud_client_id;
    show("nextcloud-oauth-new", true);
    show("nextcloud-oauth-saved", false);
    show("nextcloud-oauth-missing", false);
    setFlag("nextcloudClient", true);
    section.querySelectorAll(":scope > .notice").forEach((old) => old.remove());
    refreshStatus();
    byId("nextcloud-client-id").focus();
  }
  byId("nextcloud-oauth-copied").addEventListener("click", () => {
    byId("nextcloud-client-secret").value = "";
    show("nextcloud-oauth-new", false);
    show("nextcloud-oauth-saved", true);
    byId("managed-folders").focus();
  });
  const replaceNextcloud = byId("replace-nextcloud-oauth");
  replaceNextcloud.addEventListener("click", () => UI.busy(replaceNextcloud, async () => {
    const sure = await UI.confirm({
      title: "Replace the Nextcloud OAuth values?",
      body: [
        "OpenProject can no longer use the current values: every OpenProject user loses their connection to this Nextcloud and has to connect again.",
        "Enter the new values in the Nextcloud file storage in OpenProject afterwards.",
      ],
      confirmLabel: "Replace Nextcloud OAuth values",
      danger: true,
    });
    if (sure) await createNextcloudClient();
  }));

  // --- 4. Project folders ----------------------------------------------------------------------
  const managed = byId("managed-folders");
  const saveFolders = byId("project-folders-save");
  saveFolders.addEventListener("click", () => UI.busy(saveFolders, async () => {
    let values;
    if (!managed.checked) values = { setup_project_folder: null, setup_app_password: false };
    else if (!flag("projectFolderReady")) values = { setup_project_folder: true, setup_app_password: true };
    else values = { setup_project_folder: null, setup_app_password: flag("appPassword") ? null : true };
    const answer = await NC.app("PUT", "/admin-config", { values });
    const section = byId("project-folders-section");
    if (!answer.ok || !answer.body) {
      UI.notice(section, NC.explain(answer, "Setting up the project folders"), "error");
      return;
    }
    setFlag("projectFolderDecided", true);
    setFlag("appPassword", managed.checked);
    const password = answer.body.oPUserAppPassword;
    if (password) {
      byId("openproject-app-password").value = password;
      show("app-password-new", true);
      byId("openproject-app-password").focus();
    }
    saved(section);
    refreshProjectFolderStatus();
  }));
  byId("app-password-copied").addEventListener("click", () => {
    byId("openproject-app-password").value = "";
    show("app-password-new", false);
    byId("default-navigation").focus();
  });

  // --- 5. Default user settings ------------------------------------------------------------
  const saveDefaults = byId("defaults-save");
  saveDefaults.addEventListener("click", () => UI.busy(saveDefaults, async () => {
    const values = {
      default_enable_navigation: byId("default-navigation").checked,
      default_enable_unified_search: byId("default-search").checked,
    };
    const answer = await NC.app("PUT", "/admin-config", { values });
    const section = byId("defaults-section");
    if (!answer.ok) UI.notice(section, NC.explain(answer, "Saving the default user settings"), "error");
    else saved(section);
  }));

  // --- Reset -----------------------------------------------------------------------------------
  const reset = byId("reset-integration");
  reset.addEventListener("click", () => UI.busy(reset, async () => {
    const sure = await UI.confirm({
      title: "Reset the OpenProject integration?",
      body: [
        "Every setting of the integration is emptied and the Nextcloud OAuth client is deleted: OpenProject can no longer reach this Nextcloud.",
        "Every user's connection to OpenProject is deleted. Users have to connect again after a new setup.",
      ],
      confirmLabel: "Reset",
      danger: true,
    });
    if (!sure) return;
    const answer = await NC.app("DELETE", "/setup");
    if (!answer.ok) {
      UI.notice(reset.closest("section"), NC.explain(answer, "Resetting"), "error");
      return;
    }
    window.location.reload();
  }));

  showFlash();
  refreshStatus();
  refreshProjectFolderStatus();
  refreshPairingState();
})();
