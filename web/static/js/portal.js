// The referrer's portal and the staff's portal links (web/portal, docs/referrals.md):
// copy a link to the clipboard, share it with the Web Share API where the phone has it,
// and, on a customer's record page, make a portal link to copy (POST .../portal-link).
// Nothing personal is worked out here: names and phones come masked from the server.
import { api } from "./http.js";

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return true;
  }
  const area = document.createElement("textarea");          // plain http: the old way
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  const done = document.execCommand("copy");
  area.remove();
  return done;
}

function flash(button, text) {
  const before = button.textContent;
  button.textContent = text;
  button.classList.add("is-done");
  setTimeout(() => { button.textContent = before; button.classList.remove("is-done"); }, 2000);
}

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    if (await copyText(button.dataset.copy)) flash(button, button.dataset.copied);
  });
}

if (navigator.share) {
  for (const button of document.querySelectorAll("[data-share]")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.share({ title: button.dataset.title, text: button.dataset.text, url: button.dataset.share })
        .catch(() => {});                                      // closed by the user: nothing to do
    });
  }
}

const linkForm = document.querySelector("[data-portal-link]");
if (linkForm) {
  const copyButton = linkForm.querySelector('[data-action="copy"]');
  const out = document.querySelector(".portal-link-out");
  copyButton.addEventListener("click", async (event) => {
    event.preventDefault();
    try {
      const made = await api(linkForm.dataset.portalLink, { method: "POST", body: { action: "copy" } });
      const input = out.querySelector("input");
      input.value = made.url;
      out.hidden = false;
      input.select();
      const copied = await copyText(made.url).catch(() => false);
      out.querySelector("[role=status]").textContent = copied ? copyButton.dataset.copied : "";
    } catch (error) {
      out.hidden = false;
      out.querySelector("input").value = "";
      out.querySelector("[role=status]").textContent = error.message;
    }
  });
}
