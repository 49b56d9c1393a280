// The import wizard (templates/imports/*.html): refuse a file over the size limit
// before uploading it, and follow a running import's progress until it ends.
import { api } from "./http.js";

const POLL_MS = 1000;

function guardUpload(form) {
  const input = form.querySelector('input[type="file"]');
  const error = form.querySelector('.field-error[data-field="file"]');
  input.addEventListener("change", () => {
    const file = input.files[0];
    const tooLarge = file && file.size > Number(form.dataset.maxBytes);
    input.setCustomValidity(tooLarge ? form.dataset.tooLarge : "");
    error.hidden = !tooLarge;
    error.textContent = tooLarge ? form.dataset.tooLarge : "";
    input.closest(".field").classList.toggle("has-error", Boolean(tooLarge));
  });
}

async function follow(section) {
  const bar = section.querySelector(".progress-bar");
  const meter = section.querySelector(".progress");
  const text = section.querySelector("#progress-text");
  for (;;) {
    let status;
    try {
      status = await api(section.dataset.statusUrl);
    } catch (_error) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS * 3));
      continue;
    }
    if (status.stage !== "running") {
      window.location.reload();
      return;
    }
    const percent = Math.round((status.share || 0) * 100);
    bar.style.width = `${percent}%`;
    meter.setAttribute("aria-valuenow", String(percent));
    text.textContent = section.dataset.rowsText.replace("{rows}", status.rows_read.toLocaleString());
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

const upload = document.getElementById("upload-form");
if (upload) guardUpload(upload);
const progress = document.getElementById("progress");
if (progress) follow(progress);
