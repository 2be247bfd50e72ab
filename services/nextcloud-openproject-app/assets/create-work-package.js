// The "Create work package" dialog (templates/create_work_package.html) of the Files app's
// OpenProject tab and of the dashboard's OpenProject widget, as Nextcloud's integration app has
// it, through the integration's OCS API: the projects where the user may create work packages
// and link files; for the chosen project OpenProject's work-package form (the defaults and
// allowed values of Type and Status, and what OpenProject finds wrong) and its assignees; then
// the create call. The page that opens it does the rest (files.js links the file).
// Loaded after ui-kit.js and app.js.
"use strict";

const CreateWorkPackage = (() => {
  const dialog = document.getElementById("create-wp-dialog");
  if (!dialog) return null;
  const byId = (id) => document.getElementById(id);
  const form = byId("create-wp-form");
  const notices = byId("create-wp-notices");
  const forFile = byId("create-wp-for");
  const createButton = byId("create-wp-create");
  // Each field by the camelCase attribute OpenProject names in its validation errors.
  const fields = {
    project: byId("create-wp-project"),
    subject: byId("create-wp-subject"),
    type: byId("create-wp-type"),
    status: byId("create-wp-status"),
    assignee: byId("create-wp-assignee"),
    description: byId("create-wp-description"),
  };
  // OpenProject's messages start with the attribute's name ("Subject can't be blank.").
  const messagePrefixes = [
    ["project", "Project "],
    ["subject", "Subject "],
    ["type", "Type "],
    ["status", "Status "],
    ["assignee", "Assignee "],
    ["description", "Description "],
  ];

  let session = null; // {opener, file, onCreated} of the open dialog
  let projects = new Map(); // id → Project
  let formCalls = 0; // only the answer to the latest form call is shown
  let assigneeCalls = 0;
  let touched = new Set(); // fields the person changed: their live errors are shown

  const option = (value, label) => UI.el("option", { value }, label);

  function generalError(message) {
    notices.replaceChildren(UI.el("p", { class: "notice notice-error", role: "alert" }, message));
  }

  // What a failed OCS call means for a person.
  function problem(answer, what) {
    if (answer.status === 0) return what + " failed: the server cannot be reached. Check your network and try again.";
    if (answer.status === 401) return what + " failed: your connection to OpenProject no longer works. Connect again in your personal settings.";
    const data = answer.data;
    const message = typeof data === "string" ? data : data && typeof data === "object" ? data.error || data.message : null;
    if (typeof message === "string" && message) return what + " failed: " + message;
    return what + " failed (error " + answer.status + "). Try again.";
  }

  const projectHref = (id) => {
    const project = projects.get(id);
    const href = project && project._links && project._links.self && project._links.self.href;
    return typeof href === "string" ? href : "/api/v3/projects/" + id;
  };
  const formPath = (id) => "/projects/" + encodeURIComponent(id) + "/work-packages/form";

  // The write body OpenProject's form and create take. Type and status are left out when the
  // project changed, so OpenProject fills in that project's defaults.
  function body(withChoices) {
    const links = { project: { href: projectHref(fields.project.value) } };
    if (withChoices && fields.type.value) links.type = { href: fields.type.value };
    if (withChoices && fields.status.value) links.status = { href: fields.status.value };
    links.assignee = { href: fields.assignee.value || null };
    return {
      subject: fields.subject.value,
      description: { format: "markdown", raw: fields.description.value },
      _links: links,
    };
  }

  // The allowed values of a link field of the schema. The choice stays what the person chose
  // meanwhile when it is still allowed, else it is the payload's (the project's default).
  function fillFromSchema(select, schemaField, payloadChoice, keepChoice) {
    const allowed = schemaField && schemaField._links && schemaField._links.allowedValues;
    const values = Array.isArray(allowed) ? allowed.filter((v) => v && typeof v.href === "string") : [];
    const chosen = payloadChoice && typeof payloadChoice.href === "string" ? payloadChoice : null;
    if (chosen && !values.some((v) => v.href === chosen.href)) values.unshift(chosen);
    const current = select.value;
    select.replaceChildren(...values.map((v) => option(v.href, v.title || v.href)));
    if (keepChoice && values.some((v) => v.href === current)) select.value = current;
    else if (chosen) select.value = chosen.href;
    select.disabled = values.length === 0;
  }

  function showErrors(validationErrors, onlyTouched) {
    const general = [];
    for (const [attribute, error] of Object.entries(validationErrors || {})) {
      const message = error && typeof error === "object" ? error.message : String(error);
      if (!message) continue;
      const field = fields[attribute];
      if (field) {
        if (!onlyTouched || touched.has(attribute)) UI.showError(field, message);
      } else if (!onlyTouched) {
        general.push(message);
      }
    }
    if (general.length) generalError(general.join(" "));
  }

  function focusFirstInvalid() {
    const invalid = form.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  }

  // Asks OpenProject's form about what the dialog holds now, and shows its answer: Type and
  // Status with their allowed values and the payload's (default) choice, and the errors of
  // the fields the person changed.
  async function refreshForm(projectChanged) {
    const projectId = fields.project.value;
    if (!projectId) return;
    const mine = ++formCalls;
    if (projectChanged) {
      fields.type.disabled = true;
      fields.status.disabled = true;
    }
    const answer = await NC.openproject("POST", formPath(projectId), { body: body(!projectChanged) });
    if (mine !== formCalls || !dialog.open) return;
    const data = answer.data;
    if (!answer.ok || !data || !data.payload || !data.schema) {
      generalError(problem(answer, "Loading the project's work package form"));
      return;
    }
    const links = data.payload._links || {};
    fillFromSchema(fields.type, data.schema.type, links.type, !projectChanged);
    fillFromSchema(fields.status, data.schema.status, links.status, !projectChanged);
    UI.clearErrors(form);
    showErrors(data.validationErrors, true);
  }

  async function loadAssignees(projectId) {
    const mine = ++assigneeCalls;
    const previous = fields.assignee.value;
    fields.assignee.disabled = true;
    fields.assignee.replaceChildren(option("", "Unassigned"));
    const answer = await NC.openproject("GET", "/projects/" + encodeURIComponent(projectId) + "/available-assignees");
    if (mine !== assigneeCalls || !dialog.open) return;
    fields.assignee.disabled = false;
    if (!answer.ok || !Array.isArray(answer.data)) {
      generalError(problem(answer, "Loading who may be assigned"));
      return;
    }
    const users = answer.data
      .map((u) => ({ href: u && u._links && u._links.self && u._links.self.href, name: u && u.name }))
      .filter((u) => typeof u.href === "string");
    users.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    fields.assignee.append(...users.map((u) => option(u.href, u.name || u.href)));
    if (users.some((u) => u.href === previous)) fields.assignee.value = previous;
  }

  async function projectChosen() {
    const projectId = fields.project.value;
    UI.clearErrors(form);
    notices.replaceChildren();
    fields.assignee.value = "";
    fields.type.replaceChildren();
    fields.status.replaceChildren();
    fields.type.disabled = true;
    fields.status.disabled = true;
    if (!projectId) {
      fields.assignee.disabled = true;
      return;
    }
    await Promise.all([loadAssignees(projectId), refreshForm(true)]);
  }

  async function loadProjects() {
    fields.project.replaceChildren(option("", "Loading projects…"));
    fields.project.disabled = false;
    const answer = await NC.openproject("GET", "/projects");
    if (!dialog.open) return;
    const data = answer.data;
    if (!answer.ok || !data || typeof data !== "object") {
      fields.project.replaceChildren(option("", "No projects"));
      generalError(problem(answer, "Loading the projects"));
      return;
    }
    const list = Object.values(data).filter((p) => p && p.id !== undefined && p.id !== null);
    list.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    projects = new Map(list.map((p) => [String(p.id), p]));
    if (!list.length) {
      fields.project.replaceChildren(option("", "No projects"));
      generalError("There is no project where you may create work packages and link files of this Nextcloud.");
      return;
    }
    fields.project.replaceChildren(option("", "Select a project"), ...list.map((p) => option(String(p.id), p.name || "#" + p.id)));
    if (list.length === 1) {
      fields.project.value = String(list[0].id);
      await projectChosen();
    }
  }

  // OpenProject refused the create (422, or anything else): its message beside its field
  // when it names one, else above the fields.
  function showCreateRefusal(answer) {
    const message = typeof answer.data === "string" ? answer.data : null;
    const prefix = message && messagePrefixes.find(([, p]) => message.startsWith(p));
    if (answer.status === 422 && prefix) {
      UI.showError(fields[prefix[0]], message);
      touched.add(prefix[0]);
      focusFirstInvalid();
    } else {
      generalError(problem(answer, "Creating the work package"));
    }
  }

  async function create() {
    formCalls++; // a live form answer still on its way no longer counts
    UI.clearErrors(form);
    notices.replaceChildren();
    const projectId = fields.project.value;
    if (!projectId) {
      UI.showError(fields.project, "Select a project.");
      fields.project.focus();
      return;
    }
    const payload = body(true);
    const checked = await NC.openproject("POST", formPath(projectId), { body: payload });
    if (!dialog.open) return;
    if (!checked.ok || !checked.data || typeof checked.data !== "object") {
      generalError(problem(checked, "Checking the work package"));
      return;
    }
    const errors = checked.data.validationErrors || {};
    if (Object.keys(errors).length) {
      Object.keys(errors).forEach((attribute) => touched.add(attribute));
      showErrors(errors, false);
      focusFirstInvalid();
      return;
    }
    const created = await NC.openproject("POST", "/create/work-packages", { body: payload });
    if (!created.ok || !created.data || typeof created.data !== "object" || created.data.id === undefined) {
      if (dialog.open) showCreateRefusal(created);
      return;
    }
    const done = session;
    if (dialog.open) dialog.close();
    UI.announce("Work package created");
    if (done && done.onCreated) await done.onCreated(created.data);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    UI.busy(createButton, create).then(() => {
      // A disabled button loses the focus: keep it in the dialog.
      if (dialog.open && !dialog.contains(document.activeElement)) createButton.focus();
    });
  });
  byId("create-wp-cancel").addEventListener("click", () => dialog.close());
  fields.project.addEventListener("change", projectChosen);
  for (const name of ["subject", "type", "status", "assignee", "description"]) {
    fields[name].addEventListener("change", () => {
      touched.add(name);
      refreshForm(false);
    });
  }

  // Tab and Shift+Tab go round the dialog's controls, never out of it.
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const focusable = Array.from(dialog.querySelectorAll("select, input, textarea, button, a[href]"))
      .filter((e) => !e.disabled && e.offsetParent !== null);
    if (!focusable.length) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });

  // Escape (the dialog's cancel), Cancel and a successful create all end here: focus goes
  // back to the button that opened the dialog.
  dialog.addEventListener("close", () => {
    const opener = session && session.opener;
    session = null;
    formCalls++;
    assigneeCalls++;
    if (opener && document.body.contains(opener)) opener.focus();
  });

  // Opens the dialog. `file` ({id, name}) is the file the new work package will be linked
  // to, if any; `onCreated(workPackage)` runs once OpenProject created it.
  function open({ opener, file, onCreated }) {
    session = { opener, file, onCreated };
    projects = new Map();
    touched = new Set();
    form.reset();
    UI.clearErrors(form);
    notices.replaceChildren();
    forFile.hidden = !file;
    forFile.textContent = file ? "The new work package will be linked to \u201c" + file.name + "\u201d." : "";
    for (const select of [fields.type, fields.status, fields.assignee]) {
      select.replaceChildren();
      select.disabled = true;
    }
    dialog.showModal();
    fields.project.focus();
    return loadProjects();
  }

  return { open };
})();
