// Small DOM helpers shared by the canvas modules.

export function h(tag, className, attrs = {}) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  return el;
}

export function button(label, title, onClick, className = "") {
  const b = h("button", `fl-button ${className}`.trim(), { type: "button", title, "aria-label": title, text: label });
  b.addEventListener("click", (ev) => {
    ev.preventDefault();
    onClick(ev);
  });
  return b;
}

// CSS pixels of an SVG length ("872pt", "120px", "120")
export function cssPixels(value) {
  if (!value) return 0;
  const n = parseFloat(value);
  return value.endsWith("pt") ? (n * 4) / 3 : n;
}

export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", "", { href: url, download: filename });
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function safeFilename(name) {
  return (String(name || "graph").replace(/[^\w.-]+/g, "_").replace(/^_+|_+$/g, "") || "graph").slice(0, 80);
}
