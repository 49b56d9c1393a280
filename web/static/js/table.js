// The data table page (templates/tables/table.html). The table itself is rendered by
// the server from the address (?view ?filter ?columns ?sort ?q ?cursor): this module
// edits that address (filter builder, columns, sort, saved view) and calls the JSON
// endpoints of web/tables/views.py for saved views and bulk actions.
import { api } from "./http.js";
import { filterBuilder } from "./filter_builder.js";
import { rowSelection } from "./selection.js";

const setup = JSON.parse(document.querySelector("#table-setup").textContent);
const texts = JSON.parse(document.querySelector("#table-texts").textContent);
const base = window.location.pathname.replace(/\/$/, "");
const say = (text, n) => text.replace("{n}", n);

// Go to the same table with some parameters changed (null removes one); paging restarts.
function go(changes) {
  const params = new URLSearchParams(window.location.search);
  params.delete("cursor");
  params.delete("trail");
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined) params.delete(key);
    else params.set(key, value);
  }
  const query = params.toString();
  window.location.assign(base + (query ? "?" + query : ""));
}

// ---- panels --------------------------------------------------------------------------
for (const button of document.querySelectorAll("[data-toggle]")) {
  button.addEventListener("click", () => {
    const panel = document.getElementById(button.dataset.toggle);
    const open = panel.hidden;
    for (const other of document.querySelectorAll("[data-toggle]")) {
      document.getElementById(other.dataset.toggle).hidden = true;
      other.setAttribute("aria-expanded", "false");
    }
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open && panel.id === "filter-panel") builder.ensureOne();
  });
}

// ---- filter --------------------------------------------------------------------------
const builder = filterBuilder(document.querySelector("#filter-builder"), setup.filterFields, setup.filter, texts, setup.pickers);
document.querySelector("#filter-apply").addEventListener("click", () => {
  const value = builder.value();
  go({ filter: value ? JSON.stringify(value) : (setup.view && setup.filter ? "{}" : null) });
});
document.querySelector("#filter-clear").addEventListener("click", () => {
  builder.clear();
  go({ filter: setup.view && setup.filter ? "{}" : null });
});

// ---- sort ----------------------------------------------------------------------------
for (const button of document.querySelectorAll(".sort-button")) {
  button.addEventListener("click", () => {
    const key = button.dataset.sort;
    const next = { "": key, asc: "-" + key, desc: null }[button.dataset.dir];
    go({ sort: next === null ? (setup.view ? "id" : null) : next });
  });
}

// ---- columns (ticked and dragged into order with SortableJS) ------------------------
const list = document.querySelector("#column-list");
const shown = new Set(setup.columns);
const ordered = [...setup.columns.map((k) => setup.allColumns.find((c) => c.key === k)).filter(Boolean),
  ...setup.allColumns.filter((c) => !shown.has(c.key))];
for (const column of ordered) {
  const item = document.createElement("li");
  item.className = "column-item";
  item.dataset.key = column.key;
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.checked = shown.has(column.key);
  label.append(box, " ", column.label);
  const handle = document.createElement("span");
  handle.className = "drag-handle";
  handle.setAttribute("aria-hidden", "true");
  handle.textContent = "⋮⋮";
  item.append(handle, label);
  list.append(item);
}
import("/static/vendor/sortable.esm.js")
  .then(({ default: Sortable }) => Sortable.create(list, { handle: ".drag-handle", animation: 150 }))
  .catch(() => list.classList.add("no-drag"));
document.querySelector("#columns-apply").addEventListener("click", () => {
  const keys = [...list.querySelectorAll(".column-item")]
    .filter((item) => item.querySelector("input").checked).map((item) => item.dataset.key);
  if (keys.length) go({ columns: keys.join(",") });
});

// ---- saved views ---------------------------------------------------------------------
document.querySelector("#view-select").addEventListener("change", (event) => {
  go({ view: event.target.value, filter: null, columns: null, sort: null, q: null });
});
const viewError = document.querySelector("#view-error");
const current = () => ({ filter: setup.filter, columns: setup.columns, sort: setup.sort,
  default: document.querySelector("#view-default").checked });
async function viewCall(url, body) {
  viewError.textContent = "";
  try { return await api(url, { method: "POST", body }); } catch (error) { viewError.textContent = error.message; return null; }
}
document.querySelector("#view-save-new").addEventListener("click", async () => {
  const name = document.querySelector("#view-name").value.trim();
  if (!name) { viewError.textContent = texts.viewNameNeeded; return; }
  const view = await viewCall(base + "/views", { name, ...current() });
  if (view) go({ view: view.id, filter: null, columns: null, sort: null });
});
document.querySelector("#view-save")?.addEventListener("click", async () => {
  const name = document.querySelector("#view-name").value.trim();
  const view = await viewCall(`${base}/views/${setup.view.id}`, { name, ...current() });
  if (view) go({ view: view.id, filter: null, columns: null, sort: null });
});
document.querySelector("#view-delete")?.addEventListener("click", async () => {
  if (!window.confirm(texts.confirmViewDelete)) return;
  if (await viewCall(`${base}/views/${setup.view.id}/delete`, {})) go({ view: 0, filter: null, columns: null, sort: null });
});

// ---- selection and bulk actions ------------------------------------------------------
const table = document.querySelector("#data-table");
const bar = document.querySelector("#bulk-bar");
const bulkError = document.querySelector("#bulk-error");
const selection = table ? rowSelection(table, (ids) => {
  bar.hidden = ids.length === 0;
  document.querySelector("#bulk-count").textContent = say(texts.selected, ids.length);
}) : null;

const fieldSelect = document.querySelector("#bulk-field");
const valueSlot = document.querySelector("#bulk-value");
let readValue = () => null;
function bulkInput(key) {
  const field = setup.filterFields.find((f) => f.key === key) || { input: "text", label: key };
  let input;
  if (field.input === "option") {
    input = document.createElement("select");
    input.append(new Option(texts.emptyValue, ""));
    for (const o of field.options || []) input.append(new Option(o.label, o.value));
    readValue = () => (input.value === "" ? null : input.value);
  } else {
    input = document.createElement("input");
    input.type = { number: "number", date: "date", datetime: "datetime-local" }[field.input] || "text";
    readValue = () => (input.value === "" ? null : field.input === "number" ? Number(input.value) : input.value);
  }
  input.setAttribute("aria-label", field.label);
  input.id = "bulk-input";
  valueSlot.replaceChildren(input);
}
if (fieldSelect) {
  for (const key of setup.bulkFields) {
    const field = setup.allColumns.find((c) => c.key === key);
    fieldSelect.append(new Option(field ? field.label : key, key));
  }
  fieldSelect.addEventListener("change", () => bulkInput(fieldSelect.value));
  bulkInput(fieldSelect.value);
  document.querySelector("#bulk-set").addEventListener("click", async () => {
    bulkError.textContent = "";
    try {
      await api(base + "/bulk/set", { method: "POST", body: { ids: selection.ids(), field: fieldSelect.value, value: readValue() } });
      window.location.reload();
    } catch (error) { bulkError.textContent = error.message; }
  });
}
document.querySelector("#bulk-delete")?.addEventListener("click", async () => {
  const ids = selection.ids();
  if (!window.confirm(say(texts.confirmDelete, ids.length))) return;
  bulkError.textContent = "";
  try {
    await api(base + "/bulk/delete", { method: "POST", body: { ids } });
    window.location.reload();
  } catch (error) { bulkError.textContent = error.message; }
});
