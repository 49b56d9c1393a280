// The record page's workflow forms (templates/records/_workflow.html): the widgets of the
// fields a step lets the approver edit, the member pickers of transfer / add a signer /
// reassign, and the signature pad, on the server-rendered inputs (form_widgets.js). Which
// actions a form offers comes from the runtime; this only makes the inputs usable and
// writes the assembled widgets' values into their hidden inputs before a form is sent.
import { initWidgets, syncWidgets } from "./form_widgets.js";

const lang = document.documentElement.lang && document.documentElement.lang.startsWith("en") ? "en" : "zh";
for (const form of document.querySelectorAll("#workflow form")) {
  initWidgets(form, { lang });
  form.addEventListener("submit", () => syncWidgets(form));
}
