// Personal settings → OpenProject: connect (OAuth at OpenProject, back here), disconnect, and
// the navigation and unified-search toggles, all through PUT APP/config and GET APP/op-oauth-url.
"use strict";

(() => {
  const notices = document.getElementById("connection-notices");

  const connect = document.getElementById("connect");
  if (connect) {
    connect.addEventListener("click", () => UI.busy(connect, async () => {
      const url = await NC.app("GET", "/op-oauth-url");
      if (!url.ok || typeof url.body !== "string") {
        const message = url.status === 400
          ? "Connecting is not possible yet: the OpenProject integration is not set up completely. Ask your administrator."
          : NC.explain(url, "Connecting to OpenProject");
        UI.notice(notices, message, "error");
        return;
      }
      const journey = await NC.app("PUT", "/config", { values: { oauth_journey_starting_page: JSON.stringify({ page: "settings" }) } });
      if (!journey.ok) {
        UI.notice(notices, NC.explain(journey, "Connecting to OpenProject"), "error");
        return;
      }
      window.location.assign(url.body);
    }));
  }

  const disconnect = document.getElementById("disconnect");
  if (disconnect) {
    disconnect.addEventListener("click", () => UI.busy(disconnect, async () => {
      const answer = await NC.app("PUT", "/config", { values: { token: "" } });
      if (!answer.ok) {
        UI.notice(notices, NC.explain(answer, "Disconnecting from OpenProject"), "error");
        return;
      }
      window.location.reload();
    }));
  }

  document.querySelectorAll("input[data-preference]").forEach((toggle) => {
    toggle.addEventListener("change", async () => {
      UI.clearErrors(toggle.parentElement);
      toggle.disabled = true;
      const answer = await NC.app("PUT", "/config", { values: { [toggle.dataset.preference]: toggle.checked } });
      toggle.disabled = false;
      if (answer.ok) {
        UI.announce("Saved");
      } else {
        toggle.checked = !toggle.checked;
        UI.showError(toggle.nextElementSibling, NC.explain(answer, "Saving"));
      }
    });
  });
})();
