// fapi_lab shape table (anywidget ESM, no dependencies): one row per layer call; click a row (or focus it and
// press Enter or Space) to select that layer in every linked view. In compact mode (inside lab.explore) the table
// scrolls inside its box to the selected row and shows the arithmetic of that row under the table.
// The words come from the `labels` trait (key -> text in the notebook's language, fapi_lab/_labels_text.py); a key
// it lacks keeps the English words written here.
function cell(tag, text, cls) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (text !== undefined) el.textContent = text;
  return el;
}

function shapesCell(shapes) {
  const td = cell("td", undefined, "fl-shape");
  (shapes.length ? shapes : ["—"]).forEach((s, i) => {
    if (i) td.appendChild(document.createElement("br"));
    td.appendChild(document.createTextNode(s));
  });
  return td;
}

function render({ model, el }) {
  const t = (key, text, vars = {}) => {
    const labels = model.get("labels") || {};
    const found = typeof labels[key] === "string" && labels[key] ? labels[key] : text;
    return found.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  };
  const root = cell("div", undefined, "fl-table");
  const box = cell("div", undefined, "fl-table-box");
  const table = cell("table", undefined, "fapi-lab-shapes");
  const detail = cell("div", undefined, "fl-table-detail");
  box.appendChild(table);
  root.appendChild(box);
  root.appendChild(detail);
  el.appendChild(root);
  let byCall = new Map();

  function choose(call) {
    model.set("selected", model.get("selected") === call ? "" : call);
    model.save_changes();
  }

  function build() {
    const compact = model.get("compact");
    const rows = model.get("rows") || [];
    root.classList.toggle("fl-compact", compact);
    const limit = model.get("max_height");
    box.style.maxHeight = limit > 0 ? `${limit}px` : "";
    table.replaceChildren();
    const head = cell("thead");
    const hr = cell("tr");
    const call = t("call", "call");
    const layer = t("layer", "layer");
    const output = t("output_shape", "output shape");
    const params = t("params", "params");
    const names = compact ? [call, layer, output, params]
      : [call, layer, t("input_shape", "input shape"), output, params, t("why", "why this shape")];
    names.forEach((n) => hr.appendChild(cell("th", n)));
    head.appendChild(hr);
    table.appendChild(head);
    const body = cell("tbody");
    byCall = new Map();
    rows.forEach((r) => {
      const tr = cell("tr", undefined, "fl-row");
      tr.tabIndex = 0;
      tr.dataset.call = r.call;
      const name = cell("td");
      name.appendChild(cell("code", r.call));
      tr.appendChild(name);
      tr.appendChild(cell("td", r.layer));
      if (!compact) tr.appendChild(shapesCell(r.inputs));
      tr.appendChild(shapesCell(r.outputs));
      const params = cell("td", r.params, "fl-num");
      if (!compact && r.formula) {
        params.appendChild(document.createElement("br"));
        params.appendChild(cell("small", r.formula));
      }
      tr.appendChild(params);
      if (!compact) tr.appendChild(cell("td", r.why + (r.known ? "" : t("no_formula", " (no formula)")), "fl-why"));
      tr.addEventListener("click", () => choose(r.call));
      tr.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          choose(r.call);
        }
      });
      body.appendChild(tr);
      byCall.set(r.call, [tr, r]);
    });
    table.appendChild(body);
    const foot = cell("tfoot");
    const fr = cell("tr");
    const label = cell("td", t("total", "total"));
    label.colSpan = compact ? 3 : 4;
    fr.appendChild(label);
    fr.appendChild(cell("td", model.get("total"), "fl-num"));
    if (!compact) fr.appendChild(cell("td", ""));
    foot.appendChild(fr);
    table.appendChild(foot);
    mark();
  }

  function mark() {
    const call = model.get("selected");
    byCall.forEach(([tr]) => tr.classList.remove("fl-selected"));
    const found = byCall.get(call);
    detail.replaceChildren();
    if (!found) return;
    const [tr, r] = found;
    tr.classList.add("fl-selected");
    if (model.get("compact")) {
      detail.appendChild(cell("code", r.call));
      detail.appendChild(document.createTextNode(`: ${r.why}${r.known ? "" : t("no_formula", " (no formula)")}`));
      if (r.formula) detail.appendChild(cell("div", t("formula", "params: {formula}", { formula: r.formula }), "fl-formula"));
    }
    // scroll the box (never the page) so the row is in view
    const top = tr.offsetTop - (table.tHead ? table.tHead.offsetHeight : 0);
    if (top < box.scrollTop || tr.offsetTop + tr.offsetHeight > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, top - box.clientHeight / 3);
    }
  }

  build();
  model.on("change:rows", build);
  model.on("change:compact", build);
  model.on("change:max_height", build);
  model.on("change:total", build);
  model.on("change:selected", mark);
  model.on("change:labels", build);
  return () => root.remove();
}

export default { render };
