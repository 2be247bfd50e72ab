// The dashboard's OpenProject widget: "Create work package" opens the dialog
// (create-work-package.js); the new work package is shown with a link to it in OpenProject.
"use strict";

(() => {
  const button = document.getElementById("create-work-package");
  const notices = document.getElementById("widget-notices");
  if (!button || !notices || typeof CreateWorkPackage === "undefined" || !CreateWorkPackage) return;

  async function created(wp) {
    const answer = await NC.openproject("GET", "/url");
    const base = answer.ok && typeof answer.data === "string" ? answer.data : "";
    const project = wp._embedded && wp._embedded.project && wp._embedded.project.name;
    const text = "Work package #" + wp.id + " \u201c" + wp.subject + "\u201d created" + (project ? " in " + project : "") + ". ";
    // Announced already ("Work package created"), so shown without a live role.
    const box = UI.notice(notices, text, "success");
    box.removeAttribute("role");
    if (base) {
      box.append(UI.el("a", { href: base + "/work_packages/" + wp.id, target: "_blank", rel: "noopener", id: "created-work-package" }, "Open it in OpenProject"));
    }
  }

  button.addEventListener("click", () => CreateWorkPackage.open({ opener: button, file: null, onCreated: created }));
})();
