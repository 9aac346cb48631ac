// Pan and zoom (d3-zoom), fit to width or view with a readable floor, and a minimap for pictures bigger than the view.
//
// The picture is one absolutely placed <div> (the stage) holding the SVG at its natural size; d3-zoom's transform
// becomes a CSS transform of the stage. Moving a large SVG costs the browser a new layerization of every element
// at every frame (about 120 ms for 1,000 layers, measured in Chromium), so while a large picture moves the stage
// shows a snapshot instead: the same SVG as one <img> (with the current marks), which moves at full frame rate;
// when it rests, the live SVG (clickable, focusable) is back, drawn sharp at the new scale.

import { select } from "d3-selection";
import { zoom, zoomIdentity } from "d3-zoom";
import { h } from "./dom.js";

export const READABLE_PX = 11; // a layer's name is never drawn smaller than this by "fit"
const PAD = 16; // px of empty border around a fitted picture
const MINIMAP = { w: 180, h: 130 };
const KEEP = 48;
const SNAPSHOT_NODES = 150; // a picture with more nodes moves as a snapshot

export class Viewport {
  constructor(frame, view, stage, { onMove = () => {}, wheelZooms = () => false } = {}) {
    this.frame = frame;
    this.view = view;
    this.stage = stage;
    this.live = h("div", "fl-live");
    this.snap = h("img", "fl-snapshot", { alt: "", "aria-hidden": "true" });
    this.snapReady = false;
    this.big = false;
    stage.append(this.live, this.snap);
    this.onMove = onMove;
    this.wheelZooms = wheelZooms;
    this.w = 0; // the picture's natural size, CSS px
    this.h = 0;
    this.minK = 0.75;
    this.restTimer = 0;
    this.zoom = zoom()
      .scaleExtent([0.02, 8])
      .constrain((t, extent) => this.constrain(t, extent))
      .filter((ev) => (ev.type === "wheel" ? this.wheelZooms(ev) : (!ev.ctrlKey || ev.type === "touchstart") && !ev.button))
      .on("zoom", (ev) => {
        if (ev.sourceEvent) this.moving(true); // only once the picture moves: a click must reach the live SVG
        this.apply(ev.transform);
      })
      .on("end", () => this.moving(false));
    this.sel = select(view).call(this.zoom).on("dblclick.zoom", null);
    // a plain wheel scrolls the picture (ctrl/⌘ + wheel and pinch zoom); at its edge the page scrolls on
    view.addEventListener("wheel", (ev) => {
      if (this.wheelZooms(ev)) return;
      const before = this.transform();
      const dx = ev.shiftKey && !ev.deltaX ? ev.deltaY : ev.deltaX;
      const dy = ev.shiftKey && !ev.deltaX ? 0 : ev.deltaY;
      const unit = ev.deltaMode === 1 ? 16 : ev.deltaMode === 2 ? this.view.clientHeight : 1;
      this.moving(true);
      this.sel.call(this.zoom.translateBy, (-dx * unit) / before.k, (-dy * unit) / before.k);
      this.restSoon();
      const after = this.transform();
      if (after.x !== before.x || after.y !== before.y) ev.preventDefault();
    }, { passive: false });

    this.minimap = h("div", "fl-minimap", { "aria-hidden": "true" });
    this.miniImg = h("img", "", { alt: "" });
    this.miniRect = h("div", "fl-minimap-view");
    this.minimap.append(this.miniImg, this.miniRect);
    frame.appendChild(this.minimap);
    const jump = (ev) => {
      const r = this.miniImg.getBoundingClientRect();
      if (!r.width) return;
      this.centreOn(((ev.clientX - r.left) / r.width) * this.w, ((ev.clientY - r.top) / r.height) * this.h);
    };
    this.minimap.addEventListener("pointerdown", (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      jump(ev);
      const move = (e) => jump(e);
      const up = () => {
        window.removeEventListener("pointermove", move);
        window.removeEventListener("pointerup", up);
      };
      window.addEventListener("pointermove", move);
      window.addEventListener("pointerup", up);
    });
  }

  transform() {
    return this.view.__zoom || zoomIdentity;
  }

  moving(on) {
    clearTimeout(this.restTimer);
    if (on) {
      if (this.big && this.snapReady) this.stage.classList.add("fl-moving");
    } else {
      this.restTimer = setTimeout(() => this.stage.classList.remove("fl-moving"), 150);
    }
  }

  // the snapshot a large picture moves as (an object URL of the SVG text with its marks), once it is decoded
  async setSnapshot(url, nodes) {
    this.big = nodes > SNAPSHOT_NODES;
    if (!this.big) {
      URL.revokeObjectURL(url);
      this.snapReady = false;
      this.stage.classList.remove("fl-moving");
      return;
    }
    const img = new Image();
    img.src = url;
    try {
      await img.decode();
    } catch {
      URL.revokeObjectURL(url);
      return;
    }
    if (this.snap.src.startsWith("blob:") && this.snap.src !== this.miniImg.src) URL.revokeObjectURL(this.snap.src);
    this.snap.src = url;
    Object.assign(this.snap.style, { width: `${this.w}px`, height: `${this.h}px` });
    this.snapReady = true;
  }

  restSoon() {
    this.moving(false);
  }

  // a new picture: its natural size and the font size of its layer names (SVG units) set the readable floor
  setPicture(width, height, nameFontPx, miniUrl) {
    this.w = width;
    this.h = height;
    this.minK = Math.min(1, READABLE_PX / Math.max(1, nameFontPx));
    this.miniImg.src = miniUrl || "";
    const s = Math.min(MINIMAP.w / Math.max(1, width), MINIMAP.h / Math.max(1, height));
    this.miniImg.style.width = `${Math.round(width * s)}px`;
    this.miniImg.style.height = `${Math.round(height * s)}px`;
  }

  // the picture may move anywhere that leaves at least KEEP px of it in the view (never lost, free to pin)
  constrain(t, extent) {
    const [[x0, y0], [x1, y1]] = extent;
    const x = Math.min(x1 - KEEP, Math.max(x0 + KEEP - this.w * t.k, t.x));
    const y = Math.min(y1 - KEEP, Math.max(y0 + KEEP - this.h * t.k, t.y));
    return x === t.x && y === t.y ? t : zoomIdentity.translate(x, y).scale(t.k);
  }

  apply(t) {
    this.stage.style.transform = `translate(${t.x}px, ${t.y}px) scale(${t.k})`;
    this.updateMinimap(t);
    this.onMove(t);
  }

  updateMinimap(t = this.transform()) {
    const vw = this.view.clientWidth;
    const vh = this.view.clientHeight;
    const bigger = this.w * t.k > vw + 1 || this.h * t.k > vh + 1;
    this.minimap.style.display = bigger && this.w > 0 ? "" : "none";
    if (!bigger) return;
    const s = parseFloat(this.miniImg.style.width) / this.w;
    const x0 = Math.max(0, -t.x / t.k);
    const y0 = Math.max(0, -t.y / t.k);
    const x1 = Math.min(this.w, (vw - t.x) / t.k);
    const y1 = Math.min(this.h, (vh - t.y) / t.k);
    Object.assign(this.miniRect.style, {
      left: `${x0 * s}px`, top: `${y0 * s}px`,
      width: `${Math.max(2, (x1 - x0) * s)}px`, height: `${Math.max(2, (y1 - y0) * s)}px`,
    });
  }

  set(k, x, y) {
    this.sel.call(this.zoom.transform, zoomIdentity.translate(x, y).scale(k));
  }

  // the scale "fit" uses: as large as fits (at most natural size), never below the readable floor
  fitScale(width, height) {
    return Math.max(this.minK, Math.min(width / this.w, height / this.h, 1));
  }

  fitWidth() {
    const vw = this.view.clientWidth;
    const k = this.fitScale(vw - 2 * PAD, Infinity);
    const x = this.w * k < vw - 2 * PAD ? (vw - this.w * k) / 2 : PAD;
    this.set(k, x, PAD);
  }

  fitView() {
    const vw = this.view.clientWidth;
    const vh = this.view.clientHeight;
    const k = this.fitScale(vw - 2 * PAD, vh - 2 * PAD);
    const x = this.w * k <= vw - 2 * PAD ? (vw - this.w * k) / 2 : PAD;
    const y = this.h * k <= vh - 2 * PAD ? (vh - this.h * k) / 2 : PAD;
    this.set(k, x, y);
  }

  natural() {
    const t = this.transform();
    const cx = (this.view.clientWidth / 2 - t.x) / t.k;
    const cy = (this.view.clientHeight / 2 - t.y) / t.k;
    this.set(1, this.view.clientWidth / 2 - cx, this.view.clientHeight / 2 - cy);
  }

  zoomBy(factor) {
    this.sel.call(this.zoom.scaleBy, factor);
  }

  panBy(dx, dy) {
    const t = this.transform();
    this.sel.call(this.zoom.translateBy, dx / t.k, dy / t.k);
  }

  centreOn(x, y) {
    const t = this.transform();
    this.set(t.k, this.view.clientWidth / 2 - x * t.k, this.view.clientHeight / 2 - y * t.k);
  }

  // keep a point of the picture (picture px) at a given place of the view (view px)
  pin(x, y, viewX, viewY) {
    const t = this.transform();
    this.set(t.k, viewX - x * t.k, viewY - y * t.k);
  }

  // where a point of the picture is in the view
  toView(x, y) {
    const t = this.transform();
    return [t.x + x * t.k, t.y + y * t.k];
  }

  refresh() {
    this.sel.call(this.zoom.transform, this.transform());
  }
}
