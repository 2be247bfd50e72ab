// Files: upload, new folder, rename and delete over WebDAV (the same requests desktop clients
// send), and the details panel's "OpenProject" tab: the work packages linked to a file, search
// and link, unlink — through the integration's OCS API.
"use strict";

(() => {
  const main = document.getElementById("content");
  if (!main || main.dataset.dir === undefined) return;
  const byId = (id) => document.getElementById(id);
  const notices = byId("files-notices");
  const dir = main.dataset.dir;
  // The signed-in user's own tree, whatever characters their user id has.
  const davRoot = "/remote.php/webdav";

  // --- WebDAV ------------------------------------------------------------------------------------
  function davUrl(name) {
    const segments = dir.split("/").filter((s) => s).concat(name === undefined ? [] : [name]);
    return davRoot + "/" + segments.map(encodeURIComponent).join("/");
  }
  async function dav(method, url, body, headers) {
    try {
      const response = await fetch(url, {
        method,
        body,
        credentials: "same-origin",
        headers: Object.assign({ requesttoken: UI.defaultHeaders.requesttoken || "" }, headers || {}),
      });
      return response.status;
    } catch (_) {
      return 0;
    }
  }
  function davProblem(status, what) {
    const reasons = {
      0: "the server cannot be reached",
      400: "the name is not allowed (it may not be empty or contain / or \\)",
      403: "you are not allowed to change this item",
      404: "it no longer exists",
      405: "a file or folder with this name already exists",
      409: "the folder it belongs to no longer exists",
      412: "a file or folder with this name already exists",
      413: "the file is too large",
      507: "there is not enough space left",
    };
    return what + " failed: " + (reasons[status] || "error " + status) + ".";
  }
  const reload = () => window.location.reload();

  // --- New folder ----------------------------------------------------------------------------------
  const folderForm = byId("new-folder-form");
  const folderName = byId("new-folder-name");
  byId("new-folder").addEventListener("click", () => {
    folderForm.hidden = false;
    folderName.focus();
  });
  byId("new-folder-cancel").addEventListener("click", () => {
    folderForm.hidden = true;
    byId("new-folder").focus();
  });
  folderForm.addEventListener("submit", (event) => {
    event.preventDefault();
    UI.busy(folderForm.querySelector("button[type=submit]"), async () => {
      UI.clearErrors(folderForm);
      const name = folderName.value.trim();
      if (!name) {
        UI.showError(folderName, "Please enter a folder name.");
        return;
      }
      const status = await dav("MKCOL", davUrl(name));
      if (status === 201) reload();
      else UI.showError(folderName, davProblem(status, "Creating the folder"));
    });
  });

  // --- Upload --------------------------------------------------------------------------------------
  const upload = byId("upload-input");
  upload.addEventListener("change", async () => {
    const files = Array.from(upload.files || []);
    if (!files.length) return;
    UI.notice(notices, "Uploading " + files.length + (files.length === 1 ? " file…" : " files…"), "info");
    for (const file of files) {
      const status = await dav("PUT", davUrl(file.name), file, { "Content-Type": file.type || "application/octet-stream" });
      if (status !== 201 && status !== 204) {
        UI.notice(notices, davProblem(status, "Uploading \"" + file.name + "\""), "error");
        upload.value = "";
        return;
      }
    }
    reload();
  });

  // --- Rows: rename, delete, select ------------------------------------------------------------------
  const rows = Array.from(document.querySelectorAll("#file-list tbody tr"));
  const fileOf = (row) => ({ id: Number(row.dataset.fileId), name: row.dataset.name, folder: row.dataset.folder === "true", row });

  function startRename(row) {
    const file = fileOf(row);
    const cell = row.querySelector(".col-name");
    const original = Array.from(cell.childNodes);
    const inputId = "rename-" + file.id;
    const input = UI.el("input", { type: "text", id: inputId, value: file.name, autocomplete: "off" });
    const form = UI.el("form", { class: "inline-form rename-form" },
      UI.el("label", { for: inputId, class: "visually-hidden" }, "New name for " + file.name),
      input,
      UI.el("button", { type: "submit", class: "button small primary" }, "Save"),
      UI.el("button", { type: "button", class: "button small", onclick: () => cancel() }, "Cancel"));
    const cancel = () => {
      cell.replaceChildren(...original);
      row.querySelector(".rename-button").focus();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        cancel();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      UI.busy(form.querySelector("button[type=submit]"), async () => {
        UI.clearErrors(form);
        const name = input.value.trim();
        if (!name || name === file.name) {
          if (!name) UI.showError(input, "Please enter a name.");
          else cancel();
          return;
        }
        const status = await dav("MOVE", davUrl(file.name), undefined, {
          Destination: window.location.origin + davUrl(name),
          Overwrite: "F",
        });
        if (status === 201 || status === 204) reload();
        else UI.showError(input, davProblem(status, "Renaming"));
      });
    });
    cell.replaceChildren(form);
    input.focus();
    input.setSelectionRange(0, file.folder || !hasExtension(file.name) ? file.name.length : file.name.lastIndexOf("."));
  }
  function hasExtension(name) {
    return name.lastIndexOf(".") > 0;
  }

  async function remove(row) {
    const file = fileOf(row);
    const sure = await UI.confirm({
      title: "Delete \"" + file.name + "\"?",
      body: file.folder
        ? "The folder and everything in it are deleted for good: there is no trash bin. Links from OpenProject work packages to them stop working."
        : "The file is deleted for good: there is no trash bin. Links from OpenProject work packages to it stop working.",
      confirmLabel: "Delete",
      danger: true,
    });
    if (!sure) return;
    const status = await dav("DELETE", davUrl(file.name));
    if (status === 204) reload();
    else UI.notice(notices, davProblem(status, "Deleting \"" + file.name + "\""), "error");
  }

  const selectionBar = byId("selection-actions");
  function selected() {
    return rows.filter((row) => row.querySelector(".select-file").checked).map(fileOf);
  }
  function updateSelection() {
    const chosen = selected();
    selectionBar.hidden = chosen.length === 0 || main.dataset.openproject !== "true";
    byId("selection-count").textContent = chosen.length + " selected";
    rows.forEach((row) => row.classList.toggle("selected", row.querySelector(".select-file").checked));
  }
  rows.forEach((row) => {
    row.querySelector(".rename-button").addEventListener("click", () => startRename(row));
    row.querySelector(".delete-button").addEventListener("click", (event) => UI.busy(event.currentTarget, () => remove(row)));
    row.querySelector(".details-button").addEventListener("click", (event) => openDetails([fileOf(row)], event.currentTarget));
    row.querySelector(".select-file").addEventListener("change", updateSelection);
  });
  byId("link-selected").addEventListener("click", (event) => openDetails(selected(), event.currentTarget));

  // --- Details panel: the OpenProject tab ------------------------------------------------------
  const details = byId("details");
  const title = byId("details-title");
  const panelNotices = byId("openproject-notices");
  const linkedBlock = byId("linked-block");
  const linkedList = byId("linked-work-packages");
  const search = byId("wp-search");
  const searchForm = byId("wp-search-form");
  const results = byId("wp-results");
  let current = { files: [], opener: null, linked: new Set() };
  let openProjectUrl = null;

  async function baseUrl() {
    if (openProjectUrl === null) {
      const answer = await NC.openproject("GET", "/url");
      openProjectUrl = answer.ok && typeof answer.data === "string" ? answer.data : "";
    }
    return openProjectUrl;
  }

  function notConnected() {
    panelNotices.replaceChildren(UI.el("p", { class: "notice notice-info", id: "openproject-not-connected" },
      "Connect to OpenProject to link files to work packages. ",
      UI.el("a", { href: "/index.php/settings/user/openproject" }, "Connect in your personal settings")));
    searchForm.hidden = true;
    linkedBlock.hidden = true;
  }

  function failure(answer, what) {
    if (answer.status === 401) {
      notConnected();
      return;
    }
    const data = answer.data;
    const message = typeof data === "string" && data ? data : data && typeof data === "object" && data.error ? data.error : null;
    UI.notice(panelNotices, what + " failed" + (message ? ": " + message : answer.status === 0 ? ": the server cannot be reached" : "") + ".", "error");
  }

  const linkTitle = (wp, key) => (wp._links && wp._links[key] && wp._links[key].title) || null;

  function workPackageCard(wp, base, action) {
    const subject = base
      ? UI.el("a", { href: base + "/work_packages/" + wp.id, class: "wp-subject", target: "_blank", rel: "noopener" }, wp.subject)
      : UI.el("span", { class: "wp-subject" }, wp.subject);
    const status = linkTitle(wp, "status");
    return UI.el("li", { class: "wp-card", "data-work-package-id": wp.id },
      UI.el("div", { class: "wp-line" },
        UI.el("span", { class: "wp-id" }, "#" + wp.id),
        status ? UI.el("span", { class: "wp-status" }, status) : null,
        subject),
      UI.el("dl", { class: "wp-meta" },
        UI.el("dt", {}, "Project"), UI.el("dd", { class: "wp-project" }, linkTitle(wp, "project") || "—"),
        UI.el("dt", {}, "Assignee"), UI.el("dd", { class: "wp-assignee" }, linkTitle(wp, "assignee") || "Unassigned")),
      action);
  }

  async function loadLinked() {
    const file = current.files[0];
    linkedList.replaceChildren(UI.el("li", { class: "empty" }, "Loading…"));
    const answer = await NC.openproject("GET", "/work-packages?fileId=" + file.id);
    if (!answer.ok || !Array.isArray(answer.data)) {
      linkedList.replaceChildren();
      failure(answer, "Loading the linked work packages");
      return;
    }
    const base = await baseUrl();
    current.linked = new Set(answer.data.map((wp) => wp.id));
    if (!answer.data.length) {
      linkedList.replaceChildren(UI.el("li", { class: "empty", id: "no-linked" }, "No work packages are linked to this file yet."));
      return;
    }
    linkedList.replaceChildren(...answer.data.map((wp) => workPackageCard(wp, base,
      UI.el("button", { type: "button", class: "button small", "aria-label": "Unlink " + wp.subject, onclick: (event) => UI.busy(event.currentTarget, () => unlink(wp)) }, "Unlink"))));
  }

  async function unlink(wp) {
    const file = current.files[0];
    const sure = await UI.confirm({
      title: "Unlink \"" + file.name + "\"?",
      body: "The link from work package #" + wp.id + " \"" + wp.subject + "\" to this file is removed. The file itself stays.",
      confirmLabel: "Unlink",
      danger: true,
    });
    if (!sure) return;
    const links = await NC.openproject("GET", "/work-packages/" + wp.id + "/file-links");
    if (!links.ok || !Array.isArray(links.data)) {
      failure(links, "Unlinking");
      return;
    }
    const link = links.data.find((l) => l.originData && String(l.originData.id) === String(file.id));
    if (link) {
      const answer = await NC.openproject("DELETE", "/file-links/" + link.id);
      if (!answer.ok) {
        failure(answer, "Unlinking");
        return;
      }
    }
    UI.notice(panelNotices, "Unlinked from #" + wp.id + " " + wp.subject + ".", "success");
    await loadLinked();
    search.focus();
  }

  let searching = 0;
  let typing = null;
  async function runSearch() {
    const mine = ++searching;
    const query = search.value.trim();
    if (!query) {
      results.replaceChildren();
      return;
    }
    const answer = await NC.openproject("GET", "/work-packages?searchQuery=" + encodeURIComponent(query));
    if (mine !== searching) return;
    if (!answer.ok || !Array.isArray(answer.data)) {
      results.replaceChildren();
      failure(answer, "Searching work packages");
      return;
    }
    if (!answer.data.length) {
      results.replaceChildren(UI.el("li", { class: "empty" }, "No work packages found that files can be linked to."));
      return;
    }
    const base = await baseUrl();
    const single = current.files.length === 1;
    results.replaceChildren(...answer.data.map((wp) => {
      const already = single && current.linked.has(wp.id);
      return workPackageCard(wp, base, UI.el("button", {
        type: "button",
        class: "button small primary",
        disabled: already,
        "aria-label": (already ? "Already linked to " : "Link to ") + wp.subject,
        onclick: (event) => UI.busy(event.currentTarget, () => link(wp)),
      }, already ? "Linked" : "Link"));
    }));
  }
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(runSearch, 300);
  });
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(typing);
    runSearch();
  });

  // Links `files` to the work package `wp`: the call the tab's "Link" buttons and the "Create
  // work package" dialog make.
  function linkFiles(wp, files) {
    const fileinfo = files.map((file) => ({ id: file.id, name: file.name }));
    return NC.openproject("POST", "/work-packages", { values: { workpackageId: wp.id, fileinfo } });
  }

  async function link(wp) {
    const fileinfo = current.files;
    const answer = await linkFiles(wp, fileinfo);
    if (!answer.ok) {
      failure(answer, "Linking");
      return;
    }
    const what = fileinfo.length === 1 ? "\"" + fileinfo[0].name + "\" is" : fileinfo.length + " files are";
    UI.notice(panelNotices, what + " now linked to #" + wp.id + " " + wp.subject + ".", "success");
    results.replaceChildren();
    search.value = "";
    if (current.files.length === 1) await loadLinked();
    search.focus();
  }

  // "Create work package": the dialog (create-work-package.js), then the new work package is
  // linked to the file and appears among the linked ones.
  const createButton = byId("create-work-package");
  createButton.addEventListener("click", () => {
    const file = current.files[0];
    if (!file || typeof CreateWorkPackage === "undefined" || !CreateWorkPackage) return;
    CreateWorkPackage.open({ opener: createButton, file, onCreated: (wp) => linkCreated(wp, file) });
  });
  async function linkCreated(wp, file) {
    const answer = await linkFiles(wp, [file]);
    const still = current.files.length === 1 && current.files[0].id === file.id && !details.hidden;
    if (!answer.ok) {
      failure(answer, "Linking the new work package #" + wp.id + " to \u201c" + file.name + "\u201d");
      return;
    }
    if (!still) return;
    // Announced already ("Work package created"), so shown without a live role.
    UI.notice(panelNotices, "Work package #" + wp.id + " \u201c" + wp.subject + "\u201d created and linked to \u201c" + file.name + "\u201d.", "success").removeAttribute("role");
    await loadLinked();
  }

  function openDetails(files, opener) {
    if (!files.length) return;
    current = { files, opener, linked: new Set() };
    details.hidden = false;
    document.body.classList.add("details-open");
    title.textContent = files.length === 1 ? files[0].name : "Link " + files.length + " files to a work package";
    title.setAttribute("tabindex", "-1");
    panelNotices.replaceChildren();
    results.replaceChildren();
    search.value = "";
    searchForm.hidden = false;
    linkedBlock.hidden = files.length !== 1;
    if (main.dataset.openproject !== "true") {
      panelNotices.replaceChildren(UI.el("p", { class: "notice notice-info" }, "The OpenProject integration is disabled."));
      searchForm.hidden = true;
      linkedBlock.hidden = true;
    } else if (files.length === 1) {
      loadLinked();
    }
    title.focus();
  }
  function closeDetails() {
    details.hidden = true;
    document.body.classList.remove("details-open");
    if (current.opener && document.body.contains(current.opener)) current.opener.focus();
  }
  byId("details-close").addEventListener("click", closeDetails);
  details.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !document.querySelector("dialog[open]")) closeDetails();
  });

  const toOpen = main.dataset.openFile;
  if (toOpen) {
    const row = rows.find((r) => r.dataset.fileId === toOpen);
    if (row) openDetails([fileOf(row)], row.querySelector(".details-button"));
  }
})();
