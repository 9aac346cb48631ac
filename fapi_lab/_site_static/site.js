// fapi_lab course website (scripts/site): the search box, and the graph canvases started from their saved state.
// No libraries of its own: the graph canvas is fapi_lab's bundle (_static/graph.js, d3-zoom inside).
(function () {
  const root = (document.querySelector('meta[name="fapi-lab-root"]') || {}).content || "./";

  // -- search: every term must appear (Chinese has no spaces: a term is any run of characters) -----------------
  function setUpSearch() {
    const input = document.getElementById("site-search");
    const list = document.getElementById("site-search-results");
    if (!input || !list) return;
    const records = (window.FAPI_SEARCH || []).map((r) => ({ ...r, all: `${r.t} ${r.h} ${r.x}`.toLowerCase() }));
    const esc = (s) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
    function snippet(text, term) {
      const at = text.toLowerCase().indexOf(term);
      if (at < 0) return esc(text.slice(0, 140));
      const from = Math.max(0, at - 60);
      const part = text.slice(from, at + term.length + 80);
      const i = at - from;
      return (from ? "…" : "") + esc(part.slice(0, i)) + "<mark>" + esc(part.slice(i, i + term.length)) + "</mark>"
        + esc(part.slice(i + term.length)) + "…";
    }
    function show() {
      const terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      if (!terms.length) { list.hidden = true; list.innerHTML = ""; return; }
      const found = [];
      for (const r of records) {
        if (!terms.every((t) => r.all.includes(t))) continue;
        const score = terms.reduce((s, t) => s + (r.t.toLowerCase().includes(t) ? 4 : 0)
          + (r.h.toLowerCase().includes(t) ? 2 : 0), 0);
        found.push([score, r]);
        if (found.length > 400) break;
      }
      found.sort((a, b) => b[0] - a[0]);
      list.innerHTML = found.length ? found.slice(0, 25).map(([, r]) =>
        `<li><a href="${root}${esc(r.u)}">${esc(r.t)}${r.h ? " › " + esc(r.h) : ""}</a>`
        + `<small>${snippet(r.x.trim(), terms[0])}</small></li>`).join("")
        : `<li>${esc(input.dataset.none || "Nothing found.")}</li>`;
      list.hidden = false;
    }
    input.addEventListener("input", show);
    input.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") { input.value = ""; show(); }
      if (ev.key === "Enter") { const a = list.querySelector("a"); if (a) window.location.href = a.href; }
    });
    document.addEventListener("click", (ev) => { if (!ev.target.closest(".search")) list.hidden = true; });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "/" && document.activeElement === document.body) { ev.preventDefault(); input.focus(); }
    });
  }

  // -- graphs: the canvas of the notebook (pan, zoom, search, hover), from the state the notebook saved --------
  async function startGraphs() {
    const figures = document.querySelectorAll("figure.fl-graph");
    if (!figures.length) return;
    let canvas;
    try {
      canvas = (await import(`${root}_static/graph.js`)).default;
    } catch (err) {
      console.warn("fapi_lab: the graph canvas could not load; the stored pictures stay", err);
      return;
    }
    for (const figure of figures) {
      try {
        const data = JSON.parse(figure.querySelector("script.fl-graph-data").textContent);
        await canvas.standalone(figure.querySelector(".fl-graph-live"), data);
        figure.classList.add("live");
      } catch (err) {
        console.warn("fapi_lab: a graph stays a picture", err);
      }
    }
  }

  function start() { setUpSearch(); startGraphs(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
