// The filter builder of the data table: and/or groups of conditions of the filter
// language (docs/records.md). Which operators a field offers, what value an operator
// takes, the widget that takes it (text, number, date, option, member, department), the
// options of option fields and the day shortcuts of "last N days" all come from the
// page's data (runtime/views/filters.py), never from a list kept here. Members and
// departments are chosen from the form's pickers (`pickers`: {member, department} URLs
// answering ?q= with {"members": [...]} or {"departments": [...]}). Groups nest: any
// group may hold groups, each matching all or any of what it holds.
//
//   const builder = filterBuilder(element, fields, filter, texts, pickers);
//   builder.value()   // {"and": [...]} or null when there is no condition

export function filterBuilder(root, fields, filter, texts, pickers = {}) {
  const byKey = new Map(fields.map((f) => [f.key, f]));
  let tree = asGroup(filter);

  function asGroup(node) {
    if (!node) return { kind: "and", items: [] };
    if (Array.isArray(node)) return { kind: "and", items: node.map(asItem) };
    if (node.and || node.or) {
      const kind = node.and ? "and" : "or";
      return { kind, items: node[kind].map(asItem) };
    }
    return { kind: "and", items: [asItem(node)] };
  }
  function asItem(node) {
    if (node && (node.and || node.or || Array.isArray(node))) return asGroup(node);
    if (node && node.field && byKey.has(node.field)) return { field: node.field, op: node.op, value: node.value };
    return { opaque: node };     // a formula or "not" condition: kept as it is
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }
  function select(options, current, onChange, label) {
    const s = el("select", { "aria-label": label });
    for (const [value, text] of options) {
      const o = el("option", { value, text });
      if (String(value) === String(current)) o.selected = true;
      s.append(o);
    }
    s.addEventListener("change", () => onChange(s.value));
    return s;
  }

  function newCondition() {
    const field = fields[0];
    return { field: field.key, op: field.operators[0].op, value: null };
  }

  // A member or department: a search box and the matching choices (ids) from the picker.
  function orgInput(field, operand, value, onChange) {
    const multiple = operand === "list";
    const chosen = new Set((Array.isArray(value) ? value : value == null ? [] : [value]).map(String));
    const s = el("select", { "aria-label": field.label, class: "org-choices", "data-input": field.input });
    if (multiple) s.multiple = true;
    const search = el("input", { type: "search", class: "org-search", placeholder: texts.find, "aria-label": texts.find });
    const fill = (rows) => {
      const seen = new Set(rows.map((r) => r.value));
      const kept = [...chosen].filter((id) => !seen.has(id)).map((id) => ({ value: id, text: `#${id}` }));
      s.replaceChildren(...(multiple ? [] : [el("option", { value: "", text: texts.choose })]),
        ...[...kept, ...rows].map((r) => {
          const o = el("option", { value: r.value, text: r.text });
          if (chosen.has(r.value)) o.selected = true;
          return o;
        }));
    };
    const load = () => {
      const url = pickers[field.input];
      if (!url) return;
      fetch(`${url}?q=${encodeURIComponent(search.value)}`, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : Promise.reject(r)))
        .then((data) => fill(field.input === "member"
          ? data.members.map((m) => ({ value: String(m.id), text: `${m.name} (${m.account})` }))
          : data.departments.map((d) => ({ value: String(d.id), text: d.path }))))
        .catch(() => {});
    };
    let timer = null;
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 250); });
    s.addEventListener("change", () => {
      const ids = [...s.selectedOptions].map((o) => o.value).filter(Boolean);
      chosen.clear(); ids.forEach((id) => chosen.add(id));
      onChange(multiple ? ids.map(Number) : ids.length ? Number(ids[0]) : null);
    });
    fill([]);
    load();
    return el("span", { class: "org-input" }, search, s);
  }

  function valueInput(field, operand, value, onChange) {
    const kind = field.input;
    if ((kind === "member" || kind === "department") && operand !== "none") return orgInput(field, operand, value, onChange);
    const type = kind === "number" ? "number" : kind === "date" ? "date" : kind === "datetime" ? "date" : "text";
    const read = (input) => (type === "number" && input.value !== "" ? Number(input.value) : input.value);
    if (operand === "none") return null;
    if (operand === "pair") {
      const pair = Array.isArray(value) ? [...value] : [null, null];
      const make = (i) => {
        const input = el("input", { type, value: pair[i] ?? "", "aria-label": field.label });
        input.addEventListener("input", () => { pair[i] = read(input) === "" ? null : read(input); onChange([...pair]); });
        return input;
      };
      return el("span", { class: "pair" }, make(0), el("span", { text: ` ${texts.and2} ` }), make(1));
    }
    if (kind === "option") {
      const multiple = operand === "list";
      const s = el("select", { "aria-label": field.label });
      if (multiple) s.multiple = true;
      else s.append(el("option", { value: "", text: texts.choose }));
      const chosen = new Set((Array.isArray(value) ? value : [value]).map(String));
      for (const o of field.options || []) {
        const option = el("option", { value: o.value, text: o.label });
        if (chosen.has(String(o.value))) option.selected = true;
        s.append(option);
      }
      s.addEventListener("change", () => onChange(multiple ? [...s.selectedOptions].map((o) => o.value) : s.value));
      return s;
    }
    const shown = Array.isArray(value) ? value.join(", ") : value ?? "";
    const input = el("input", { type: operand === "list" ? "text" : type, value: shown, "aria-label": field.label });
    input.addEventListener("input", () => {
      if (operand === "list") {
        onChange(input.value.split(/[,，]/).map((t) => t.trim()).filter(Boolean)
          .map((t) => (type === "number" ? Number(t) : t)));
      } else onChange(read(input));
    });
    return input;
  }

  function daysInput(operator, value, onChange) {
    const input = el("input", { type: "number", min: "1", value: value ?? (operator.presets || [7])[0], class: "days", "aria-label": texts.days });
    input.addEventListener("input", () => onChange(Number(input.value)));
    if (value == null) onChange(Number(input.value));
    const shortcuts = (operator.presets || []).map((n) => el("button", { type: "button", class: "btn btn-ghost btn-small day-preset",
      "data-days": String(n), text: texts.lastDays.replace("{n}", n),
      onclick: () => { input.value = String(n); onChange(n); } }));
    return el("span", { class: "days-input" }, input, el("span", { text: " " + texts.days }), ...shortcuts);
  }

  function conditionRow(item, parent) {
    const field = byKey.get(item.field);
    const operator = field.operators.find((o) => o.op === item.op) || field.operators[0];
    item.op = operator.op;
    const row = el("div", { class: "condition" });
    row.append(
      select(fields.map((f) => [f.key, f.label]), item.field, (key) => {
        Object.assign(item, { field: key, op: byKey.get(key).operators[0].op, value: null }); render();
      }, texts.field || "field"),
      select(field.operators.map((o) => [o.op, o.label]), item.op, (op) => {
        const before = operator.operand;
        item.op = op;
        if (field.operators.find((o) => o.op === op).operand !== before) item.value = null;
        render();
      }, "operator"),
    );
    const keep = (v) => { item.value = v; };
    const input = operator.operand === "days" ? daysInput(operator, item.value, keep)
      : valueInput(field, operator.operand, item.value, keep);
    if (input) row.append(input);
    row.append(el("button", { type: "button", class: "btn btn-ghost btn-small remove", text: "×",
      "aria-label": texts.remove, onclick: () => { parent.items.splice(parent.items.indexOf(item), 1); render(); } }));
    return row;
  }

  function groupBox(group, parent) {
    const box = el("div", { class: parent ? "group nested" : "group" });
    const head = el("div", { class: "group-head" },
      el("span", { text: texts.match + " " }),
      select([["and", texts.and], ["or", texts.or]], group.kind, (k) => { group.kind = k; }, texts.match));
    if (parent) {
      head.append(el("button", { type: "button", class: "btn btn-ghost btn-small remove", text: "×", "aria-label": texts.remove,
        onclick: () => { parent.items.splice(parent.items.indexOf(group), 1); render(); } }));
    }
    box.append(head);
    for (const item of group.items) {
      if (item.items) box.append(groupBox(item, group));
      else if (item.opaque) box.append(el("div", { class: "condition opaque" }, el("code", { text: JSON.stringify(item.opaque) })));
      else box.append(conditionRow(item, group));
    }
    const actions = el("div", { class: "group-actions" },
      el("button", { type: "button", class: "btn btn-small", text: "+ " + texts.addCondition, "data-add": "condition",
        onclick: () => { group.items.push(newCondition()); render(); } }));
    actions.append(el("button", { type: "button", class: "btn btn-small btn-ghost", text: "+ " + texts.addGroup, "data-add": "group",
      onclick: () => { group.items.push({ kind: group.kind === "and" ? "or" : "and", items: [newCondition()] }); render(); } }));
    box.append(actions);
    return box;
  }

  function render() { root.replaceChildren(groupBox(tree, null)); }

  function serialise(node) {
    if (node.items) {
      const parts = node.items.map(serialise).filter(Boolean);
      return parts.length ? { [node.kind]: parts } : null;
    }
    if (node.opaque) return node.opaque;
    const operand = byKey.get(node.field).operators.find((o) => o.op === node.op).operand;
    if (operand === "none") return { field: node.field, op: node.op };
    return { field: node.field, op: node.op, value: node.value };
  }

  render();
  return {
    value: () => serialise(tree),
    clear: () => { tree = { kind: "and", items: [] }; render(); },
    ensureOne: () => { if (!tree.items.length) { tree.items.push(newCondition()); render(); } },
  };
}
