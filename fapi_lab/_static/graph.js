// fapi_lab graph canvas: shows the SVG drawn in Python, turns clicks (and Enter/Space on a focused node)
// into a selected layer key, and marks the selection with CSS classes (no new layout needed).
function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "fapi-lab-canvas";
  el.appendChild(box);

  function nodeOf(target) {
    const g = target && target.closest ? target.closest("g.node") : null;
    return g && model.get("ids")[g.id] !== undefined ? g : null;
  }

  function choose(g) {
    const key = model.get("ids")[g.id];
    model.set("selected", key === model.get("selected") ? "" : key);
    model.save_changes();
  }

  function mark() {
    box.querySelectorAll(".fl-selected, .fl-in, .fl-out").forEach((g) =>
      g.classList.remove("fl-selected", "fl-in", "fl-out"));
    const sel = model.get("selected");
    for (const [id, key] of Object.entries(model.get("ids"))) {
      if (key === sel) {
        const g = box.querySelector(`[id="${id}"]`);
        if (g) g.classList.add("fl-selected");
      }
    }
    for (const [list, cls] of [["inputs_of", "fl-in"], ["outputs_of", "fl-out"]]) {
      for (const id of model.get(list)) {
        const g = box.querySelector(`[id="${id}"]`);
        if (g) g.classList.add(cls);
      }
    }
  }

  function draw() {
    box.style.maxHeight = `${model.get("max_height")}px`;
    box.innerHTML = model.get("svg");
    const svg = box.querySelector("svg");
    if (svg) {
      const w = svg.getAttribute("width") || "";
      const px = w.endsWith("pt") ? parseFloat(w) * 4 / 3 : parseFloat(w);
      if (px) svg.setAttribute("width", `${Math.round(px)}px`);
      svg.removeAttribute("height");
      svg.style.maxWidth = "100%";
      svg.style.height = "auto";
    }
    box.querySelectorAll("g.node").forEach((g) => {
      if (model.get("ids")[g.id] === undefined) return;
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.setAttribute("aria-label", `layer ${model.get("ids")[g.id]}`);
    });
    mark();
  }

  box.addEventListener("click", (ev) => {
    const g = nodeOf(ev.target);
    if (g) choose(g);
  });
  box.addEventListener("keydown", (ev) => {
    const g = nodeOf(ev.target);
    if (g && (ev.key === "Enter" || ev.key === " ")) {
      ev.preventDefault();
      choose(g);
    }
  });
  model.on("change:svg", draw);
  model.on("change:ids", draw);
  model.on("change:selected", mark);
  model.on("change:inputs_of", mark);
  model.on("change:outputs_of", mark);
  draw();
  return () => box.remove();
}

export default { render };
