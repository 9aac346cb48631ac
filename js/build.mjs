// Bundle the canvas into fapi_lab/_static/ (run by `bash scripts/build_js`; users never need Node).
// The first line of the bundle records a hash of the sources, so a test can tell a stale bundle offline.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "fapi_lab", "_static");

export function sourcesHash() {
  const files = ["build.mjs", "package.json", "package-lock.json",
    ...readdirSync(join(here, "src")).map((f) => `src/${f}`)].sort();
  const hash = createHash("sha256");
  for (const f of files) {
    hash.update(`${f}\n`);
    hash.update(readFileSync(join(here, f), "utf8").replace(/\r\n/g, "\n"));
    hash.update("\n");
  }
  return hash.digest("hex");
}

const digest = sourcesHash();
const banner = `/* fapi_lab graph canvas: built from js/ by scripts/build_js (sources sha256 ${digest}); `
  + "d3-zoom and d3-selection (ISC licence, Mike Bostock) */";
const result = await esbuild.build({
  entryPoints: [join(here, "src", "index.js")],
  bundle: true, format: "esm", minify: true, target: "es2020", write: false, legalComments: "none",
  banner: { js: banner },
});
writeFileSync(join(out, "graph.js"), result.outputFiles[0].text);
const css = readFileSync(join(here, "src", "graph.css"), "utf8");
writeFileSync(join(out, "graph.css"), `/* fapi_lab graph canvas: built from js/src/graph.css (sources sha256 ${digest}) */\n${css}`);
console.log(`wrote ${join(out, "graph.js")} (${result.outputFiles[0].text.length} bytes) and graph.css; sources ${digest}`);
