// The form page (templates/forms/form.html): widgets on the server-rendered inputs, and
// the live draft. On every change (debounced) the whole form is posted to data-draft,
// which answers with the engine's evaluation (runtime/forms evaluate_draft); this module
// only shows that answer: computed values, visibility, issues. No rule lives here.
import { csrfToken } from "./http.js";
import { initWidgets, syncWidgets } from "./form_widgets.js";

const DEBOUNCE_MS = 250;
const form = document.querySelector("form.record-form");
const touched = new Set();
let submitted = form.dataset.submitted === "1";
let timer = null;
let sequence = 0;

function fieldOf(element) {
  const box = element.closest("[data-field]");
  return box ? box.dataset.field : null;
}

function formData(changed) {
  syncWidgets(form);
  const data = new FormData(form);
  for (const key of touched) data.append("_touched", key);
  if (changed) data.set("_changed", changed);
  return data;
}

async function evaluate(changed) {
  const mine = ++sequence;
  let response;
  try {
    response = await fetch(form.dataset.draft, {
      method: "POST", body: formData(changed), credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), Accept: "application/json" },
    });
  } catch {
    return;                                   // offline for a moment: the save still judges
  }
  if (!response.ok || mine !== sequence) return;   // only the newest answer is shown
  apply(await response.json());
}

function schedule(changed) {
  clearTimeout(timer);
  timer = setTimeout(() => evaluate(changed), DEBOUNCE_MS);
}

function shownText(output, value) {
  if (output.dataset.choices) {
    // A lookup of a choice field: the label the page was given for each value.
    const labels = Object.fromEntries(JSON.parse(output.dataset.choices).map((c) => [c.value, c.label]));
    if (Array.isArray(value)) value = value.map((v) => labels[v] ?? v);
    else if (value in labels) value = labels[value];
  }
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return "—";
  if (value === true) return "✓";
  if (value === false) return "✗";
  if (Array.isArray(value)) return value.join("、");
  if (typeof value === "object") return Object.values(value).filter(Boolean).join(" ");
  if (output.dataset.percent) return `${value}%`;
  return output.dataset.unit ? `${value} ${output.dataset.unit}` : String(value);
}

function setDefault(box, value) {
  // A new record's default (or default formula) for a field the user has not typed into.
  const input = box.querySelector(`[name="${box.dataset.field}"]`);
  if (!input || input.type === "hidden" || input.type === "radio" || input.type === "checkbox") return;
  const text = value === null || value === undefined ? "" : String(value);
  if (input._flatpickr) input._flatpickr.setDate(text, false);
  else if (input.tomselect) input.tomselect.setValue(text, true);
  else input.value = text;
}

function applyRows(box, rows) {
  const trs = box.querySelectorAll("tbody tr[data-row]");
  rows.forEach((row, i) => {
    if (!trs[i] || !row) return;
    for (const [col, value] of Object.entries(row)) {
      const out = trs[i].querySelector(`[data-computed-col="${col}"]`);
      if (out) out.textContent = shownText(out, value);
    }
  });
}

function apply(draft) {
  for (const [key, value] of Object.entries(draft.values || {})) {
    const box = form.querySelector(`[data-field="${key}"]`);
    if (!box) continue;
    const out = box.querySelector(`[data-computed="${key}"]`);
    if (out) out.textContent = shownText(out, value);
    else if (box.dataset.kind === "subform" && Array.isArray(value)) applyRows(box, value);
    else if (!touched.has(key) && !draft.record_id) setDefault(box, value);
  }
  for (const [key, visible] of Object.entries(draft.visible || {})) {
    const box = form.querySelector(`[data-field="${key}"]`);
    if (box) box.hidden = !visible;
  }
  showIssues(draft.messages || {});
}

function showIssues(messages) {
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    const path = slot.dataset.errorFor;
    const field = path.split("[")[0];
    const shown = submitted || touched.has(field);
    const text = shown && messages[path] ? messages[path].join(" ") : "";
    slot.textContent = text;
    const holder = slot.closest("td") || slot.closest("[data-field]");
    if (holder) holder.classList.toggle("has-error", Boolean(text));
  }
  const general = document.getElementById("form-errors");
  if (general && submitted) {
    const top = messages["*"] || [];
    const own = general.querySelectorAll("p[data-live]");
    own.forEach((p) => p.remove());
    for (const message of top) {
      const p = document.createElement("p");
      p.dataset.live = "1";
      p.textContent = message;
      general.prepend(p);
    }
    const stillBad = Object.keys(messages).length > 0;
    general.hidden = !stillBad && !general.querySelector("p:not([data-live])[data-keep]");
  }
}

function changedHere(event) {
  const key = fieldOf(event.target);
  if (!key) return;
  touched.add(key);
  schedule(key);
}

form.addEventListener("input", changedHere);
form.addEventListener("change", changedHere);
form.addEventListener("fw:changed", changedHere);      // widgets that change values themselves
form.addEventListener("submit", () => {
  syncWidgets(form);
  submitted = true;
  form.querySelector("button[type=submit]").disabled = true;
});

initWidgets(form, { lang: form.dataset.lang });
