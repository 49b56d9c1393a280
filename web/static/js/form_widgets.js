// The widgets of the form page, on the inputs templates/forms/_widgets.html renders:
// flatpickr dates, Tom Select selects and remote pickers, the address cascader, the
// location, the signature pad, uploads with progress and subform rows. Widgets that
// assemble a value keep it as JSON in their hidden input (syncWidgets), which is what
// web/forms/posted.py reads. The vendor scripts are loaded by the page as globals.
import { uploadFile } from "./uploads.js";

// Texts come translated from the page (Flask-Babel): <script id="form-texts">.
let t = {};

function changed(element) {
  element.dispatchEvent(new CustomEvent("fw:changed", { bubbles: true }));
}

function initDate(input, lang) {
  if (!window.flatpickr) return;
  const withTime = input.dataset.widget === "datetime";
  window.flatpickr(input, {
    allowInput: true, enableTime: withTime, time_24hr: true,
    dateFormat: withTime ? "Y-m-d H:i" : "Y-m-d",
    minDate: input.dataset.min || null, maxDate: input.dataset.max || null,
    locale: lang === "zh" && window.flatpickr.l10ns && window.flatpickr.l10ns.zh ? "zh" : "default",
    disableMobile: true,
    onChange: () => changed(input),
  });
}

function initSelect(select) {
  if (!window.TomSelect) return;
  const multiple = select.multiple;
  const max = Number(select.dataset.max) || null;
  new window.TomSelect(select, {
    allowEmptyOption: !multiple, maxItems: multiple ? max : 1, plugins: multiple ? ["remove_button"] : [],
    render: { no_results: () => `<div class="no-results">${t.noResults}</div>` },
  });
}

function pickerRows(kind, data) {
  if (kind === "relation") return data.records.map((r) => ({ value: String(r.id), text: r.title }));
  if (kind === "member" || kind === "members") {
    return data.members.map((m) => ({ value: String(m.id), text: m.name, sub: m.account }));
  }
  return data.departments.map((d) => ({ value: String(d.id), text: d.name, sub: d.path }));
}

function initPicker(select) {
  if (!window.TomSelect) return;
  const kind = select.dataset.kind;
  const multiple = select.multiple;
  const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  new window.TomSelect(select, {
    valueField: "value", labelField: "text", searchField: ["text", "sub"],
    maxItems: multiple ? Number(select.dataset.max) || null : 1, plugins: multiple ? ["remove_button"] : [],
    preload: "focus", loadThrottle: 250,
    load(query, callback) {
      fetch(`${select.dataset.source}?q=${encodeURIComponent(query)}`, { credentials: "same-origin",
        headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : Promise.reject(r)))
        .then((data) => callback(pickerRows(kind, data)))
        .catch(() => callback());
    },
    render: {
      option: (item) => `<div>${escape(item.text)}${item.sub ? ` <small class="muted">${escape(item.sub)}</small>` : ""}</div>`,
      no_results: () => `<div class="no-results">${t.noResults}</div>`,
    },
  });
}

// ---- address: province -> city -> district from the division data ----------------------
function initAddress(box) {
  const selects = [...box.querySelectorAll("select[data-level]")];
  selects.forEach((select, i) => {
    select.addEventListener("change", async () => {
      for (const below of selects.slice(i + 1)) below.length = 1;
      const next = selects[i + 1];
      if (next && select.value) {
        const codes = selects.slice(0, i + 1).map((s) => s.value);
        const query = new URLSearchParams({ province: codes[0] || "", city: codes[1] || "" });
        const response = await fetch(`${box.dataset.source}?${query}`, { credentials: "same-origin" });
        if (response.ok) {
          for (const child of (await response.json()).children) next.add(new Option(child.name, child.code));
        }
      }
      changed(box);
    });
  });
}

function syncAddress(box) {
  const value = {};
  for (const select of box.querySelectorAll("select[data-level]")) {
    value[select.dataset.level] = select.value ? select.options[select.selectedIndex].text : null;
  }
  const detail = box.querySelector("[data-part=detail]");
  if (detail) value.detail = detail.value || null;
  const empty = Object.values(value).every((v) => !v);
  box.querySelector("input[data-json]").value = empty ? "" : JSON.stringify(value);
}

// ---- location ---------------------------------------------------------------------------
function initLocation(box) {
  const status = box.querySelector("[data-status]");
  box.querySelector("[data-action=locate]").addEventListener("click", () => {
    if (!navigator.geolocation) { status.textContent = t.noGeo; return; }
    status.textContent = t.locating;
    navigator.geolocation.getCurrentPosition((position) => {
      box.querySelector("[data-part=lng]").value = position.coords.longitude.toFixed(6);
      box.querySelector("[data-part=lat]").value = position.coords.latitude.toFixed(6);
      status.textContent = t.located;
      changed(box);
    }, () => { status.textContent = t.noGeo; }, { enableHighAccuracy: true, timeout: 10000 });
  });
}

function syncLocation(box) {
  const part = (name) => box.querySelector(`[data-part=${name}]`).value.trim();
  const value = { lng: part("lng"), lat: part("lat"), name: part("name") || null };
  box.querySelector("input[data-json]").value = value.lng || value.lat || value.name ? JSON.stringify(value) : "";
}

// ---- signature: drawn, then uploaded as a PNG file ----------------------------------------
function initSignature(box) {
  if (!window.SignaturePad) return;
  const canvas = box.querySelector("canvas");
  const hidden = box.querySelector("input[type=hidden]");
  const status = box.querySelector("[data-status]");
  const saveButton = box.querySelector("[data-action=save]");
  const resize = () => {
    const ratio = Math.max(window.devicePixelRatio || 1, 1);
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
  };
  const pad = new window.SignaturePad(canvas, { penColor: "#1f2933" });
  resize();
  box.querySelector("[data-action=clear]").addEventListener("click", () => {
    const saved = box.querySelector(".signature-saved");
    if (saved) saved.remove();
    canvas.hidden = false;
    saveButton.hidden = false;
    resize();
    pad.clear();
    hidden.value = "";
    status.textContent = "";
    changed(box);
  });
  saveButton.addEventListener("click", () => {
    if (pad.isEmpty()) { status.textContent = t.signFirst; return; }
    canvas.toBlob(async (blob) => {
      try {
        const file = await uploadFile(box.dataset.upload, new File([blob], "signature.png", { type: "image/png" }),
          (pct) => { status.textContent = `${t.uploading} ${pct}%`; });
        hidden.value = String(file.id);
        status.textContent = t.saved;
        changed(box);
      } catch (error) {
        status.textContent = `${t.failed}: ${error.message}`;
      }
    }, "image/png");
  });
}

// ---- attachments and images: XMLHttpRequest uploads with progress -------------------------
function fileIds(box) {
  return [...box.querySelectorAll(".file-item")].map((li) => Number(li.dataset.id));
}

function addFileItem(box, file) {
  const li = document.createElement("li");
  li.className = "file-item";
  li.dataset.id = String(file.id);
  const href = `${box.dataset.download}/${file.id}`;
  if (box.dataset.kind === "image") {
    const img = document.createElement("img");
    img.src = `${href}?inline=1`;
    img.alt = "";
    li.append(img);
  }
  const link = document.createElement("a");
  link.href = href;
  link.textContent = file.name;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "btn btn-ghost btn-small";
  remove.dataset.action = "remove";
  remove.setAttribute("aria-label", t.remove);
  remove.textContent = "×";
  li.append(link, remove);
  box.querySelector(".file-list").append(li);
}

function initUploads(box) {
  const input = box.querySelector("input[type=file]");
  const progress = box.querySelector(".upload-progress");
  const bar = progress.querySelector("progress");
  const status = progress.querySelector("[data-status]");
  box.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action=remove]");
    if (!button) return;
    button.closest(".file-item").remove();
    changed(box);
  });
  input.addEventListener("change", async () => {
    const maxFiles = Number(box.dataset.maxFiles);
    const maxBytes = Number(box.dataset.maxBytes);
    progress.hidden = false;
    for (const file of [...input.files]) {
      if (fileIds(box).length >= maxFiles) { status.textContent = t.tooMany; break; }
      if (file.size > maxBytes) { status.textContent = `${t.tooBig}: ${file.name}`; continue; }
      try {
        const stored = await uploadFile(box.dataset.upload, file, (pct) => {
          bar.value = pct;
          status.textContent = `${t.uploading} ${file.name} ${pct}%`;
        });
        addFileItem(box, stored);
        status.textContent = "";
        changed(box);
      } catch (error) {
        status.textContent = `${t.failed}: ${error.message}`;
      }
    }
    bar.value = 0;
    progress.hidden = !status.textContent;
    input.value = "";
  });
}

// ---- subform rows ------------------------------------------------------------------------
function renumber(box) {
  box.querySelectorAll("tbody tr[data-row]").forEach((tr, i) => {
    tr.querySelector(".row-no").textContent = String(i + 1);
    for (const slot of tr.querySelectorAll("[data-error-for]")) {
      slot.dataset.errorFor = slot.dataset.errorFor.replace(/\[\d+\]/, `[${i}]`);
    }
  });
}

function initSubform(box, lang) {
  const body = box.querySelector("tbody");
  const template = box.querySelector("template");
  box.querySelector("[data-action=add-row]").addEventListener("click", () => {
    const max = Number(box.dataset.maxRows) || Infinity;
    if (body.children.length >= max) return;
    body.append(template.content.firstElementChild.cloneNode(true));
    const row = body.lastElementChild;
    row.querySelectorAll("[data-widget=date], [data-widget=datetime]").forEach((i) => initDate(i, lang));
    renumber(box);
    changed(box);
    const first = row.querySelector("input, select");
    if (first) first.focus();
  });
  box.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action=remove-row]");
    if (!button) return;
    button.closest("tr").remove();
    renumber(box);
    changed(box);
  });
}

function syncSubform(box) {
  const rows = [...box.querySelectorAll("tbody tr[data-row]")].map((tr) => {
    const row = {};
    for (const input of tr.querySelectorAll("[data-col]:not(output)")) {
      row[input.dataset.col] = input.type === "checkbox" ? input.checked : input.value;
    }
    return row;
  });
  box.querySelector("input[data-json]").value = JSON.stringify(rows);
}

function syncUploads(box) {
  box.querySelector("input[data-json]").value = JSON.stringify(fileIds(box));
}

const SYNC = { address: syncAddress, location: syncLocation, subform: syncSubform, uploads: syncUploads };

export function syncWidgets(form) {
  for (const box of form.querySelectorAll("[data-widget]")) {
    const sync = SYNC[box.dataset.widget];
    if (sync) sync(box);
  }
}

export function initWidgets(form, { lang = "zh" } = {}) {
  const texts = document.getElementById("form-texts");
  t = texts ? JSON.parse(texts.textContent) : {};
  form.querySelectorAll("input[data-widget=date], input[data-widget=datetime]")
    .forEach((input) => initDate(input, lang));
  form.querySelectorAll("select[data-widget=select], select[data-widget=multiselect]").forEach(initSelect);
  form.querySelectorAll("select[data-widget=picker]").forEach(initPicker);
  form.querySelectorAll("[data-widget=address]").forEach(initAddress);
  form.querySelectorAll("[data-widget=location]").forEach(initLocation);
  form.querySelectorAll("[data-widget=signature]").forEach(initSignature);
  form.querySelectorAll("[data-widget=uploads]").forEach(initUploads);
  form.querySelectorAll("[data-widget=subform]").forEach((box) => initSubform(box, lang));
}
