// Replay a Linked Data Event Stream with the LDES client (ldes-client) and print the dataset it
// rebuilds, as N-Quads: for each member in order, an as:Update replaces the graph named by its
// as:object with the member's named graph; an as:Delete drops that graph.
// Usage: node ldes-replay.mjs URL
import { replicateLDES, intoConfig } from "ldes-client";
import { DataFactory, Writer } from "n3";

const AS = "https://www.w3.org/ns/activitystreams#";
const RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const [url] = process.argv.slice(2);

const client = replicateLDES(intoConfig({ url, ordered: "ascending", noShape: true }));
const reader = client.stream({ highWaterMark: 10 }).getReader();
const graphs = new Map();
let members = 0;
for (;;) {
  const { value: member, done } = await reader.read();
  if (done) break;
  members += 1;
  const id = member.id.value;
  const about = member.quads.filter((q) => q.subject.value === id && q.graph.termType === "DefaultGraph");
  const target = about.find((q) => q.predicate.value === AS + "object")?.object.value;
  const deleted = about.some((q) => q.predicate.value === RDF_TYPE && q.object.value === AS + "Delete");
  if (!target) throw new Error(`member ${id} names no as:object`);
  if (deleted) {
    graphs.delete(target);
  } else {
    const graph = DataFactory.namedNode(target);
    graphs.set(
      target,
      member.quads
        .filter((q) => q.graph.value === id)
        .map((q) => DataFactory.quad(q.subject, q.predicate, q.object, graph)),
    );
  }
}
const writer = new Writer({ format: "N-Quads" });
for (const quads of graphs.values()) writer.addQuads(quads);
writer.end((error, text) => {
  if (error) throw error;
  process.stdout.write(text);
  process.stderr.write(`${members} members, ${graphs.size} graphs\n`);
});
