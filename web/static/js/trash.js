// The recycle bin: select all, and a row's own Restore button restores that row only.
import { rowSelection } from "./selection.js";

const form = document.querySelector("#restore-form");
if (form) {
  const selection = rowSelection(form, (ids) => {
    document.querySelector("#restore-selected").disabled = ids.length === 0;
  });
  selection.update();
  for (const button of form.querySelectorAll("[data-restore-one]")) {
    button.addEventListener("click", () => {
      for (const box of form.querySelectorAll("input.row-select")) box.checked = false;
    });
  }
}
