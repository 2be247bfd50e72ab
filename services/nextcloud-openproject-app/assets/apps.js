// Apps: disable or enable the OpenProject integration through the provisioning API
// (DELETE / POST /ocs/v2.php/cloud/apps/{app}).
"use strict";

(() => {
  const item = document.getElementById("app-integration_openproject");
  const button = document.getElementById("app-toggle");
  const state = document.getElementById("app-state");
  const notices = document.getElementById("apps-notices");
  if (!item || !button) return;

  button.addEventListener("click", () => UI.busy(button, async () => {
    const enabled = item.dataset.enabled === "true";
    if (enabled) {
      const sure = await UI.confirm({
        title: "Disable the OpenProject integration?",
        body: [
          "Users can no longer link files to work packages, and OpenProject can no longer use this Nextcloud as a file storage until the app is enabled again.",
          "Settings and connections are kept.",
        ],
        confirmLabel: "Disable",
        danger: true,
      });
      if (!sure) return;
    }
    const answer = await NC.ocs(enabled ? "DELETE" : "POST", "/ocs/v2.php/cloud/apps/" + item.dataset.appId);
    if (!answer.ok) {
      UI.notice(notices, NC.explain(answer, enabled ? "Disabling" : "Enabling"), "error");
      return;
    }
    item.dataset.enabled = String(!enabled);
    state.textContent = enabled ? "Disabled" : "Enabled";
    button.textContent = enabled ? "Enable" : "Disable";
    button.classList.toggle("primary", enabled);
    UI.notice(notices, enabled ? "The OpenProject integration is disabled." : "The OpenProject integration is enabled.", "success");
  }));
})();
