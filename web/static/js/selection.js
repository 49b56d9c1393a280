// Row checkboxes of a table: "select all on this page" and the chosen ids.
//   const selection = rowSelection(table, onChange);  selection.ids() -> [3, 5]
export function rowSelection(root, onChange = () => {}) {
  const all = root.querySelector("#select-all");
  const boxes = () => [...root.querySelectorAll("input.row-select")];
  const ids = () => boxes().filter((b) => b.checked).map((b) => Number(b.value));
  const update = () => {
    const chosen = ids();
    if (all) {
      all.checked = chosen.length > 0 && chosen.length === boxes().length;
      all.indeterminate = chosen.length > 0 && !all.checked;
    }
    for (const box of boxes()) box.closest("tr")?.classList.toggle("selected", box.checked);
    onChange(chosen);
  };
  all?.addEventListener("change", () => { for (const box of boxes()) box.checked = all.checked; update(); });
  for (const box of boxes()) box.addEventListener("change", update);
  return { ids, update };
}
