// The standalone .html export: the same canvas, driven by a local model instead of a kernel.
//
// `data` = {start: state id, states: {id: base64 gzip JSON of a picture}, next: {id: {key: id}}, info, name, note,
// labels} (labels: the canvas's words in the language the file was written in; see graph.js).
// Opening or closing a block moves to the state Python drew for that click (see fapi_lab/_graph_export.py);
// a click Python did not draw a state for says so in the status line.

import { render, word } from "./graph.js";

async function unpack(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return JSON.parse(await new Response(stream).text());
}

export async function standalone(el, data) {
  let current = data.start;
  const values = {
    picture: await unpack(data.states[current]), info: data.info || {}, selected: "", search: "",
    inputs_of: [], outputs_of: [], max_height: 0, name: data.name || "graph", offline: data.note || "",
    labels: data.labels || {},
  };
  const handlers = {};
  const model = {
    get: (k) => values[k],
    set: (k, v) => {
      const changed = values[k] !== v;
      values[k] = v;
      if (changed) (handlers[`change:${k}`] || []).forEach((f) => f());
    },
    on: (event, f) => { (handlers[event] ||= []).push(f); },
    off: () => {},
    save_changes: () => {},
    send: async (msg) => {
      if (!msg || msg.type !== "toggle") return;
      const next = (data.next[current] || {})[msg.key];
      if (next === undefined) {
        model.set("offline", `${data.note} ${word(data.labels, "no_picture", "This copy has no picture for that click.")}`);
        return;
      }
      current = next;
      model.set("offline", data.note || "");
      model.set("picture", await unpack(data.states[next]));
    },
  };
  render({ model, el });
  return model;
}
