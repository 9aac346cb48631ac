// fapi_lab graph canvas (anywidget front end; also the standalone .html export, see standalone.js).
//
// Python sends `picture` = {svg, ids: svg id -> key, frames: svg id -> key of an expanded block, foldable: key ->
// expanded?, neighbours: svg id -> [input ids, output ids], located: hidden key -> drawn key} and `info`
// (key -> hover lines, for every layer at every depth). Everything here works without a kernel round trip except
// selecting a layer (it sets `selected`) and opening or closing a block (a "toggle" message; Python draws again).
// The words come from `labels` (key -> text in the notebook's language, see fapi_lab/_labels_text.py); a key it
// lacks keeps the English words written here.

import { button, cssPixels, h } from "./dom.js";
import { downloadPng, downloadSvg } from "./export.js";
import { Viewport } from "./viewport.js";

const XLINK = "http://www.w3.org/1999/xlink";
const SVGNS = "http://www.w3.org/2000/svg";

// `text` in the language of `labels[key]` (English when missing), with {name} placeholders filled from `vars`
export function word(labels, key, text, vars = {}) {
  const found = labels && typeof labels[key] === "string" && labels[key] ? labels[key] : text;
  return found.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

function render({ model, el }) {
  const say = (key, text, vars) => word(model.get("labels"), key, text, vars);
  const root = h("div", "fl-root");
  const bar = h("div", "fl-toolbar", { role: "toolbar", "aria-label": say("toolbar", "graph view") });
  const frame = h("div", "fl-frame");
  const view = h("div", "fapi-lab-canvas", {
    tabindex: "0", role: "application",
    "aria-label": say("canvas", "graph: drag to move, ctrl + wheel or pinch to zoom, + and - keys zoom, 0 fits, / searches"),
  });
  const stage = h("div", "fl-stage");
  const tip = h("div", "fl-tooltip", { role: "tooltip" });
  const status = h("div", "fl-status");
  view.appendChild(stage);
  frame.append(view, tip);
  root.append(bar, frame, status);
  root.dataset.graph = model.get("name") || "";
  el.appendChild(root);

  let svg = null;
  let byKey = {}; // key -> svg id of its node
  let frameByKey = {}; // key -> svg id of its frame (expanded block)
  let userMoved = false;
  let pending = null; // a block being opened or closed: keep it where it was on screen
  let matches = [];
  let matchIndex = -1;
  const isFull = () => root.classList.contains("fl-full");

  const vp = new Viewport(frame, view, stage, {
    onMove: (t) => {
      zoomLabel.textContent = `${Math.round(t.k * 100)}%`;
      tip.style.display = "none";
    },
    wheelZooms: (ev) => ev.ctrlKey || ev.metaKey || isFull(),
  });
  vp.zoom.on("zoom.user", (ev) => {
    if (ev.sourceEvent) userMoved = true;
  });

  // -- toolbar -----------------------------------------------------------------------------------------------
  const zoomLabel = h("span", "fl-zoom", { "aria-live": "polite" });
  const search = h("input", "fl-search", {
    type: "search", placeholder: say("search", "find a layer or class"),
    "aria-label": say("search_aria", "find a layer by name or class"),
  });
  const count = h("span", "fl-count", { "aria-live": "polite" });
  const pngWords = {
    noPng: say("no_png", "the browser could not make a PNG"), noSvg: say("no_svg", "the browser could not draw the SVG"),
  };
  bar.append(
    button("−", say("zoom_out", "zoom out (-)"), () => vp.zoomBy(1 / 1.25), "fl-zoom-out"),
    zoomLabel,
    button("+", say("zoom_in", "zoom in (+)"), () => vp.zoomBy(1.25), "fl-zoom-in"),
    button(say("fit_width", "fit width"), say("fit_width_title", "fit the width, text kept readable (w)"),
      () => { userMoved = false; vp.fitWidth(); }, "fl-fit-width"),
    button(say("fit_all", "fit all"), say("fit_all_title", "fit the whole graph, text kept readable (0)"),
      () => { userMoved = false; vp.fitView(); }, "fl-fit"),
    button("1:1", say("natural", "natural size (1)"), () => vp.natural(), "fl-natural"),
    button(say("full", "full screen"), say("full_title", "full screen (f; Esc leaves)"), () => toggleFull(),
      "fl-full-button"),
    search,
    button("◀", say("previous", "previous match (shift+Enter)"), () => step(-1), "fl-prev"),
    button("▶", say("next", "next match (Enter)"), () => step(1), "fl-next"),
    count,
    h("span", "fl-spacer"),
    button("SVG", say("svg", "download the picture as SVG"), () => svg && downloadSvg(svg, model.get("name")),
      "fl-svg"),
    button("PNG", say("png", "download the picture as PNG"),
      () => svg && downloadPng(svg, model.get("name"), pngWords).catch((e) => {
        status.textContent = say("png_failed", "PNG: {error}", { error: e.message });
      }), "fl-png"),
  );

  // -- drawing -----------------------------------------------------------------------------------------------
  function picture() {
    return model.get("picture") || {};
  }

  function nameFontPx(svgEl, unit) {
    const sizes = [];
    for (const t of svgEl.querySelectorAll("g.node text")) {
      const s = parseFloat(t.getAttribute("font-size"));
      if (s) sizes.push(s);
      if (sizes.length > 200) break;
    }
    sizes.sort((a, b) => a - b);
    return (sizes.length ? sizes[sizes.length - 1 - Math.floor(sizes.length / 4)] : 12) * unit;
  }

  function elementOf(key) {
    const id = frameByKey[key] || byKey[key];
    return id ? svg.querySelector(`[id="${CSS.escape(id)}"]`) : null;
  }

  // top-centre of a node or frame in picture pixels
  function anchorOf(key) {
    const g = svg && elementOf(key);
    if (!g) return null;
    const r = g.getBoundingClientRect();
    const s = stage.getBoundingClientRect();
    const k = vp.transform().k;
    return [(r.left + r.width / 2 - s.left) / k, (r.top - s.top) / k];
  }

  function badge(target, key, open) {
    const box = target.getBBox();
    const g = document.createElementNS(SVGNS, "g");
    g.setAttribute("class", `fl-ui fl-fold ${open ? "fl-fold-close" : "fl-fold-open"}`);
    g.setAttribute("tabindex", "0");
    g.setAttribute("role", "button");
    const what = open ? say("collapse", "collapse {key}", { key }) : say("expand", "expand {key}", { key });
    g.setAttribute("aria-label", what);
    g.dataset.key = key;
    const x = box.x + box.width - 2;
    const y = box.y + 2;
    const c = document.createElementNS(SVGNS, "circle");
    Object.entries({ cx: x, cy: y, r: 8 }).forEach(([a, v]) => c.setAttribute(a, v));
    const mark = document.createElementNS(SVGNS, "text");
    Object.entries({ x, y: y + 4, "text-anchor": "middle", "font-size": 13 }).forEach(([a, v]) => mark.setAttribute(a, v));
    mark.textContent = open ? "−" : "+";
    const title = document.createElementNS(SVGNS, "title");
    title.textContent = what;
    g.append(title, c, mark);
    target.parentNode.appendChild(g);
  }

  function draw() {
    const p = picture();
    const ids = p.ids || {};
    byKey = {};
    for (const [id, key] of Object.entries(ids)) byKey[key] = id;
    frameByKey = {};
    for (const [id, key] of Object.entries(p.frames || {})) frameByKey[key] = id;
    vp.live.innerHTML = p.svg || "";
    svg = vp.live.querySelector("svg");
    if (!svg) {
      vp.setPicture(0, 0, 12, "");
      return;
    }
    const vb = svg.viewBox && svg.viewBox.baseVal;
    const w = cssPixels(svg.getAttribute("width")) || (vb && vb.width) || 300;
    const hgt = cssPixels(svg.getAttribute("height")) || (vb && vb.height) || 150;
    const unit = vb && vb.width ? w / vb.width : 1;
    const miniUrl = URL.createObjectURL(new Blob([p.svg], { type: "image/svg+xml" }));
    if (vp.miniImg.src.startsWith("blob:")) URL.revokeObjectURL(vp.miniImg.src);
    svg.setAttribute("width", `${w}px`);
    svg.setAttribute("height", `${hgt}px`);
    vp.setPicture(w, hgt, nameFontPx(svg, unit), miniUrl);
    for (const g of svg.querySelectorAll("g.node")) {
      const key = ids[g.id];
      if (key === undefined) continue;
      g.setAttribute("tabindex", "0");
      g.setAttribute("role", "button");
      g.setAttribute("aria-label", say("layer", "layer {key}", { key }));
      g.querySelectorAll(":scope > title").forEach((t) => t.remove()); // the canvas's own tooltip shows more
      g.querySelectorAll("a").forEach((a) => {
        a.removeAttributeNS(XLINK, "title");
        a.removeAttribute("title");
      });
    }
    layout(w, hgt);
    decorate();
    mark();
    applySearch(false);
    snapshotSoon(0);
  }

  // the snapshot a large picture moves as: the SVG with the marks drawn now (see viewport.js)
  const MARKS = {
    "fl-selected": "#dc2626;stroke-width:3.5px", "fl-contains": "#dc2626;stroke-width:3px;stroke-dasharray:6 3",
    "fl-in": "#2563eb;stroke-width:2.5px", "fl-out": "#16a34a;stroke-width:2.5px",
    "fl-match": "#f59e0b;stroke-width:4px", "fl-current": "#b45309;stroke-width:5px",
  };
  let snapTimer = 0;
  function snapshotSoon(delay = 150) {
    clearTimeout(snapTimer);
    snapTimer = setTimeout(() => {
      const p = picture();
      if (!svg || !p.svg) return;
      const nodes = Object.keys(p.ids || {}).length;
      const css = [];
      for (const [cls, stroke] of Object.entries(MARKS)) {
        for (const g of svg.querySelectorAll(`g.${cls}`)) {
          css.push(`#${CSS.escape(g.id)} polygon,#${CSS.escape(g.id)} path,#${CSS.escape(g.id)} rect{stroke:${stroke}}`);
        }
      }
      const open = p.svg.indexOf(">", p.svg.indexOf("<svg")) + 1;
      const text = css.length ? `${p.svg.slice(0, open)}<style>${css.join("")}</style>${p.svg.slice(open)}` : p.svg;
      vp.setSnapshot(URL.createObjectURL(new Blob([text], { type: "image/svg+xml" })), nodes);
    }, delay);
  }

  // size the view and place the picture: fitted at first, then where the reader left it
  function layout(w, hgt) {
    if (!isFull()) {
      const maxH = model.get("max_height") || window.innerHeight - 60;
      const k = Math.max(vp.minK, Math.min(((view.clientWidth || 632) - 32) / w, 1));
      view.style.height = `${Math.round(Math.min(maxH, Math.max(140, hgt * k + 32)))}px`;
    }
    if (pending) {
      const a = anchorOf(pending.key);
      if (a) vp.pin(a[0], a[1], pending.at[0], pending.at[1]);
      else vp.refresh();
      pending = null;
    } else if (userMoved) {
      vp.refresh();
    } else {
      vp.fitWidth();
    }
    vp.updateMinimap();
  }

  function decorate() {
    const fold = picture().foldable || {};
    const run = () => {
      for (const [key, open] of Object.entries(fold)) {
        const g = elementOf(key);
        if (g && (open ? frameByKey[key] : byKey[key])) badge(g, key, open);
      }
    };
    const drawn = svg;
    let tries = 0;
    const attempt = () => {
      if (svg !== drawn) return; // a newer picture came meanwhile
      if (stage.isConnected && view.clientWidth) run();
      else if (tries++ < 600) requestAnimationFrame(attempt);
    };
    attempt();
  }

  function mark() {
    if (!svg) return;
    svg.querySelectorAll(".fl-selected, .fl-in, .fl-out, .fl-contains").forEach((g) =>
      g.classList.remove("fl-selected", "fl-in", "fl-out", "fl-contains"));
    snapshotSoon();
    const sel = model.get("selected");
    if (!sel) return;
    const id = byKey[sel];
    const add = (nid, cls) => {
      const g = nid && svg.querySelector(`[id="${CSS.escape(nid)}"]`);
      if (g) g.classList.add(cls);
    };
    if (id) {
      add(id, "fl-selected");
      const [ins, outs] = (picture().neighbours || {})[id] || [model.get("inputs_of") || [], model.get("outputs_of") || []];
      ins.forEach((n) => add(n, "fl-in"));
      outs.forEach((n) => add(n, "fl-out"));
    } else {
      const shown = (picture().located || {})[sel];
      if (shown) add(byKey[shown], "fl-contains");
    }
  }

  // -- search ------------------------------------------------------------------------------------------------
  function applySearch(centre) {
    if (!svg) return;
    svg.querySelectorAll(".fl-match, .fl-current").forEach((g) => g.classList.remove("fl-match", "fl-current"));
    const text = search.value.trim().toLowerCase();
    matches = [];
    matchIndex = -1;
    if (!text) {
      count.textContent = "";
      return;
    }
    const info = model.get("info") || {};
    const located = picture().located || {};
    let layers = 0;
    const seen = new Set();
    for (const [key, lines] of Object.entries(info)) {
      const own = key.slice(key.lastIndexOf("/") + 1).toLowerCase(); // the rule of _graph_picture.search_keys
      if (!own.includes(text) && !String((lines || [])[1] || "").toLowerCase().includes(text)) continue;
      layers += 1;
      const shown = byKey[key] !== undefined ? key : located[key];
      const id = shown !== undefined ? byKey[shown] : undefined;
      if (id !== undefined && !seen.has(id)) {
        seen.add(id);
        matches.push(id);
      }
    }
    for (const id of matches) {
      const g = svg.querySelector(`[id="${CSS.escape(id)}"]`);
      if (g) g.classList.add("fl-match");
    }
    const vars = { shown: matches.length, n: layers };
    count.textContent = !matches.length ? say("no_match", "no match")
      : layers === 1 ? say("found_one", "{shown} shown · {n} layer", vars) : say("found_many", "{shown} shown · {n} layers", vars);
    snapshotSoon();
    if (centre && matches.length) step(1);
  }

  function step(direction) {
    if (!matches.length) return;
    matchIndex = (matchIndex + direction + matches.length) % matches.length;
    svg.querySelectorAll(".fl-current").forEach((g) => g.classList.remove("fl-current"));
    const g = svg.querySelector(`[id="${CSS.escape(matches[matchIndex])}"]`);
    if (!g) return;
    g.classList.add("fl-current");
    snapshotSoon();
    const r = g.getBoundingClientRect();
    const s = stage.getBoundingClientRect();
    const k = vp.transform().k;
    userMoved = true;
    vp.centreOn((r.left + r.width / 2 - s.left) / k, (r.top + r.height / 2 - s.top) / k);
    count.textContent = say("nth", "{i} of {n}", { i: matchIndex + 1, n: matches.length });
  }

  let searchTimer = 0;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      applySearch(true);
      model.set("search", search.value);
      model.save_changes();
    }, 120);
  });
  search.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      step(ev.shiftKey ? -1 : 1);
    } else if (ev.key === "Escape") {
      search.value = "";
      applySearch(false);
      view.focus();
    }
  });

  // -- selecting, folding, hovering --------------------------------------------------------------------------
  function nodeOf(target) {
    const g = target && target.closest ? target.closest("g.node") : null;
    return g && picture().ids && picture().ids[g.id] !== undefined ? g : null;
  }

  function choose(g) {
    const key = picture().ids[g.id];
    model.set("selected", key === model.get("selected") ? "" : key);
    model.save_changes();
  }

  function toggle(key) {
    const a = anchorOf(key);
    pending = a ? { key, at: vp.toView(a[0], a[1]) } : null;
    status.textContent = "";
    model.send({ type: "toggle", key });
  }

  function foldKeyOf(target) {
    const b = target.closest && target.closest("g.fl-fold");
    if (b) return b.dataset.key;
    return null;
  }

  view.addEventListener("click", (ev) => {
    const fk = foldKeyOf(ev.target);
    if (fk) return toggle(fk);
    const g = nodeOf(ev.target);
    if (g) choose(g);
  });
  view.addEventListener("dblclick", (ev) => {
    const fold = picture().foldable || {};
    const g = nodeOf(ev.target);
    if (g && picture().ids[g.id] in fold) return toggle(picture().ids[g.id]);
    const c = ev.target.closest && ev.target.closest("g.cluster");
    if (c && (picture().frames || {})[c.id] !== undefined) toggle(picture().frames[c.id]);
  });
  view.addEventListener("keydown", (ev) => {
    const fk = foldKeyOf(ev.target);
    const g = nodeOf(ev.target);
    if ((ev.key === "Enter" || ev.key === " ") && (fk || g)) {
      ev.preventDefault();
      if (fk) toggle(fk);
      else choose(g);
      return;
    }
    const keys = {
      ArrowLeft: () => vp.panBy(60, 0), ArrowRight: () => vp.panBy(-60, 0),
      ArrowUp: () => vp.panBy(0, 60), ArrowDown: () => vp.panBy(0, -60),
      "+": () => vp.zoomBy(1.25), "=": () => vp.zoomBy(1.25), "-": () => vp.zoomBy(1 / 1.25),
      0: () => vp.fitView(), w: () => vp.fitWidth(), 1: () => vp.natural(), f: () => toggleFull(),
      "/": () => search.focus(), Escape: () => isFull() && toggleFull(),
    };
    const act = keys[ev.key];
    if (act && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      ev.preventDefault();
      userMoved = true;
      act();
    }
  });

  // the browser scrolls an overflow:hidden box to show what gets focus; the canvas pans instead
  view.addEventListener("scroll", () => {
    view.scrollTop = 0;
    view.scrollLeft = 0;
  });
  view.addEventListener("focusin", (ev) => {
    const g = ev.target.closest && ev.target.closest("g.node, g.fl-fold");
    if (!g) return;
    const r = g.getBoundingClientRect();
    const v = view.getBoundingClientRect();
    if (r.left >= v.left && r.right <= v.right && r.top >= v.top && r.bottom <= v.bottom) return;
    const s = stage.getBoundingClientRect();
    const k = vp.transform().k;
    userMoved = true;
    vp.centreOn((r.left + r.width / 2 - s.left) / k, (r.top + r.height / 2 - s.top) / k);
  });

  view.addEventListener("pointerover", (ev) => {
    const g = nodeOf(ev.target);
    if (!g || ev.buttons) return;
    const key = picture().ids[g.id];
    const lines = (model.get("info") || {})[key] || [key];
    tip.replaceChildren(...lines.map((line, i) => h("div", i === 0 ? "fl-tip-name" : "", { text: line })));
    const r = g.getBoundingClientRect();
    const f = frame.getBoundingClientRect();
    tip.style.display = "block";
    const left = Math.min(r.right - f.left + 8, f.width - tip.offsetWidth - 4);
    tip.style.left = `${Math.max(4, left)}px`;
    tip.style.top = `${Math.max(4, r.top - f.top)}px`;
  });
  view.addEventListener("pointerout", (ev) => {
    if (nodeOf(ev.target) && !nodeOf(ev.relatedTarget)) tip.style.display = "none";
  });

  // -- full screen -------------------------------------------------------------------------------------------
  function sizeFull() {
    view.style.height = `${Math.max(200, window.innerHeight - bar.offsetHeight - status.offsetHeight - 8)}px`;
    vp.fitView();
  }
  function leaveFull() {
    root.classList.remove("fl-full", "fl-maximized");
    view.style.height = "";
    userMoved = false;
    draw();
  }
  function toggleFull() {
    if (isFull()) {
      if (document.fullscreenElement === root) document.exitFullscreen();
      else leaveFull();
      return;
    }
    root.classList.add("fl-full");
    const ask = root.requestFullscreen ? root.requestFullscreen() : Promise.reject(new Error("no full screen"));
    ask.then(() => requestAnimationFrame(sizeFull)).catch(() => {
      root.classList.add("fl-maximized"); // the browser refused: fill the window instead
      requestAnimationFrame(sizeFull);
    });
  }
  const onFullChange = () => {
    if (document.fullscreenElement !== root && root.classList.contains("fl-full")
        && !root.classList.contains("fl-maximized")) leaveFull();
  };
  document.addEventListener("fullscreenchange", onFullChange);

  // -- wiring --------------------------------------------------------------------------------------------------
  const onSearch = () => {
    if (search.value !== (model.get("search") || "")) {
      search.value = model.get("search") || "";
      applySearch(true);
    }
  };
  model.on("change:picture", draw);
  model.on("change:name", () => { root.dataset.graph = model.get("name") || ""; });
  model.on("change:selected", mark);
  model.on("change:inputs_of", mark);
  model.on("change:outputs_of", mark);
  model.on("change:info", () => applySearch(false));
  model.on("change:search", onSearch);
  model.on("change:offline", () => { status.textContent = model.get("offline") || ""; });
  status.textContent = model.get("offline") || "";
  search.value = model.get("search") || "";
  let sized = view.clientWidth;
  const resize = new ResizeObserver(() => {
    if (!svg || view.clientWidth === sized) return;
    const first = !sized;
    sized = view.clientWidth;
    if (first) layout(vp.w, vp.h); // shown for the first time: size the view now that it has a width
    else if (!userMoved && !isFull()) vp.fitWidth();
    vp.updateMinimap();
  });
  resize.observe(view);
  draw();
  return () => {
    resize.disconnect();
    document.removeEventListener("fullscreenchange", onFullChange);
    root.remove();
  };
}

export { render };
