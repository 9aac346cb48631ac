// Export the picture as drawn: SVG text (selection marks kept, canvas controls removed) and a PNG drawn from it.

import { cssPixels, download, safeFilename } from "./dom.js";

const MARK_CSS = `
g.fl-selected polygon, g.fl-selected path, g.fl-selected rect, g.fl-selected ellipse {stroke:#dc2626; stroke-width:3.5px}
g.fl-contains polygon, g.fl-contains path, g.fl-contains rect {stroke:#dc2626; stroke-width:3px; stroke-dasharray:6 3}
g.fl-in polygon, g.fl-in path, g.fl-in rect {stroke:#2563eb; stroke-width:2.5px}
g.fl-out polygon, g.fl-out path, g.fl-out rect {stroke:#16a34a; stroke-width:2.5px}
g.fl-match polygon, g.fl-match path, g.fl-match rect {stroke:#f59e0b; stroke-width:4px}
`;

export function svgText(svg) {
  const copy = svg.cloneNode(true);
  copy.querySelectorAll(".fl-ui").forEach((n) => n.remove());
  copy.querySelectorAll("[tabindex]").forEach((n) => {
    n.removeAttribute("tabindex");
    n.removeAttribute("role");
    n.removeAttribute("aria-label");
  });
  copy.removeAttribute("style");
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  copy.setAttribute("xmlns:xlink", "http://www.w3.org/1999/xlink");
  const style = document.createElementNS("http://www.w3.org/2000/svg", "style");
  style.textContent = MARK_CSS;
  copy.insertBefore(style, copy.firstChild);
  return new XMLSerializer().serializeToString(copy);
}

export function downloadSvg(svg, name) {
  download(new Blob([svgText(svg)], { type: "image/svg+xml" }), `${safeFilename(name)}.svg`);
}

// PNG at twice the natural size (fewer pixels for a huge picture: browsers refuse very large canvases)
// (`words`: the two failure messages in the notebook's language, English when not given)
export function pngBlob(svg, scale = 2, maxPixels = 24_000_000, words = {}) {
  const w = cssPixels(svg.getAttribute("width")) || svg.viewBox.baseVal.width;
  const h = cssPixels(svg.getAttribute("height")) || svg.viewBox.baseVal.height;
  const s = Math.min(scale, Math.sqrt(maxPixels / (w * h)), 16_000 / Math.max(w, h));
  const text = svgText(svg);
  return new Promise((resolve, reject) => {
    const img = new Image();
    const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
    img.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(w * s));
      canvas.height = Math.max(1, Math.round(h * s));
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error(words.noPng || "the browser could not make a PNG"))),
        "image/png");
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error(words.noSvg || "the browser could not draw the SVG"));
    };
    img.src = url;
  });
}

export async function downloadPng(svg, name, words = {}) {
  download(await pngBlob(svg, 2, 24_000_000, words), `${safeFilename(name)}.png`);
}
