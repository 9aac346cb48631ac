// The bundle's entry point: anywidget calls `render`; the standalone .html export calls `standalone`.
import { render } from "./graph.js";
import { standalone } from "./standalone.js";

export default { render, standalone };
