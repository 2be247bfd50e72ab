// What every Nextcloud page shares: the CSRF token on every API call, the user menu, and the
// calls to the integration app's routes and its OCS API. Loaded after ui-kit.js.
"use strict";

const NC = (() => {
  const APP = "/index.php/apps/integration_openproject";
  const OCS = "/ocs/v2.php/apps/integration_openproject/api/v1";

  const tokenHolder = document.querySelector("[data-requesttoken]");
  if (tokenHolder) UI.defaultHeaders.requesttoken = tokenHolder.dataset.requesttoken;

  // A call to an app route (APP/…): JSON both ways.
  function app(method, path, payload) {
    return UI.request(method, APP + path, payload);
  }

  // A call to an OCS route: the envelope unwrapped into `data`, the OCS status as `status`.
  async function ocs(method, url, payload) {
    const separator = url.includes("?") ? "&" : "?";
    const answer = await UI.request(method, url + separator + "format=json", payload, { "OCS-APIRequest": "true" });
    const data = answer.body && answer.body.ocs ? answer.body.ocs.data : null;
    return { status: answer.status, ok: answer.ok, data };
  }

  // The integration's OCS API (…/api/v1/…).
  function openproject(method, path, payload) {
    return ocs(method, OCS + path, payload);
  }

  // What a failed call means for a person, never a protocol string.
  function explain(answer, what) {
    if (answer.status === 0) return what + " failed: the server cannot be reached. Check your network and try again.";
    if (answer.status === 401) return what + " failed: your session has ended. Log in again.";
    if (answer.status === 403) return what + " failed: you are not allowed to do this.";
    if (answer.status === 412) return what + " failed: this page is out of date. Reload it and try again.";
    const message = answer.body && (answer.body.error || answer.body.message);
    if (typeof message === "string" && message) return what + " failed: " + message;
    return what + " failed (error " + answer.status + "). Try again.";
  }

  function setUpUserMenu() {
    const button = document.getElementById("user-menu-button");
    const menu = document.getElementById("user-menu");
    if (!button || !menu) return;
    const close = (focusButton) => {
      menu.hidden = true;
      button.setAttribute("aria-expanded", "false");
      if (focusButton) button.focus();
    };
    button.addEventListener("click", () => {
      const open = menu.hidden;
      menu.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      if (open) {
        const first = menu.querySelector("a");
        if (first) first.focus();
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !menu.hidden) close(true);
    });
    document.addEventListener("click", (event) => {
      if (!menu.hidden && !event.target.closest(".user-menu")) close(false);
    });
  }

  setUpUserMenu();
  return { APP, OCS, app, ocs, openproject, explain };
})();
