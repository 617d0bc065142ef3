// Run a SELECT with Comunica (@comunica/query-sparql) and print its bindings as JSON lines.
// Usage: node comunica-select.mjs SOURCE_KIND URL QUERY
//   SOURCE_KIND "sparql": the URL is declared a SPARQL endpoint;
//   SOURCE_KIND "auto":   Comunica finds out what the URL is (from its service description).
import { QueryEngine } from "@comunica/query-sparql";

const [kind, url, query] = process.argv.slice(2);
const source = kind === "sparql" ? { type: "sparql", value: url } : url;
const engine = new QueryEngine();
const bindings = await engine.queryBindings(query, { sources: [source], lenient: false });
for await (const row of bindings) {
  const out = {};
  for (const [variable, term] of row) {
    out[variable.value] = term.value;
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}
