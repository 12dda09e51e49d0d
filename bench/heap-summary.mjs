// Summarises a V8 heap snapshot (.heapsnapshot, as written by node --heapsnapshot-signal) as JSON: the heap's total,
// self and retained size by constructor, and the biggest owners (the dominator tree's large nodes with the path
// that reaches them), so bench/memory.sh can say where the heap goes without opening DevTools.
//
//   node bench/heap-summary.mjs <file.heapsnapshot> > summary.json
//
// Retained size = what would be freed if the object went: the sum of self sizes over the nodes it dominates
// (Cooper, Harvey and Kennedy's iterative dominator algorithm over the graph without weak edges), as DevTools does.
import { readFileSync, statSync } from 'node:fs';



/** @returns {{ nodes: number, totalBytes: number, byConstructor: object[], owners: object[] }} */
export function summarise(snap, minOwnerBytes = 2 * 1024 * 1024) {
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const [typeF, nameF, selfF, edgeCountF] = ['type', 'name', 'self_size', 'edge_count'].map((f) => meta.node_fields.indexOf(f));
  const [eTypeF, eNameF, eToF] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f));
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const weak = edgeTypes.indexOf('weak');
  const shortcut = edgeTypes.indexOf('shortcut');
  const n = snap.nodes.length / nf;
  const { nodes, edges, strings } = snap;

  const firstEdge = new Int32Array(n + 1);
  for (let i = 0, e = 0; i < n; i++) {
    firstEdge[i] = e;
    e += nodes[i * nf + edgeCountF] * ef;
    firstEdge[i + 1] = e;
  }
  const traversable = (e) => edges[e + eTypeF] !== weak && edges[e + eTypeF] !== shortcut;

  // Post-order from the root (node 0), iteratively.
  const order = new Int32Array(n).fill(-1); // node -> post-order index
  const post = [];
  const stack = new Int32Array(n);
  const cursor = new Int32Array(n);
  const seen = new Uint8Array(n);
  let sp = 0;
  stack[sp++] = 0;
  seen[0] = 1;
  cursor[0] = firstEdge[0];
  while (sp > 0) {
    const v = stack[sp - 1];
    let pushed = false;
    while (cursor[v] < firstEdge[v + 1]) {
      const e = cursor[v];
      cursor[v] += ef;
      if (!traversable(e)) continue;
      const w = edges[e + eToF] / nf;
      if (seen[w]) continue;
      seen[w] = 1;
      cursor[w] = firstEdge[w];
      stack[sp++] = w;
      pushed = true;
      break;
    }
    if (!pushed) {
      sp--;
      order[v] = post.length;
      post.push(v);
    }
  }
  // Predecessors (reachable ones only).
  const predCount = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) {
    if (order[v] < 0) continue;
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += ef) if (traversable(e)) predCount[edges[e + eToF] / nf]++;
  }
  const predStart = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) predStart[v + 1] = predStart[v] + predCount[v];
  const preds = new Int32Array(predStart[n]);
  const fill = predStart.slice(0, n);
  for (let v = 0; v < n; v++) {
    if (order[v] < 0) continue;
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e += ef) if (traversable(e)) preds[fill[edges[e + eToF] / nf]++] = v;
  }
  // Immediate dominators, by post-order index.
  const m = post.length;
  const idom = new Int32Array(m).fill(-1);
  const root = order[0];
  idom[root] = root;
  const intersect = (a, b) => {
    while (a !== b) {
      while (a < b) a = idom[a];
      while (b < a) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = m - 1; i >= 0; i--) {
      if (i === root) continue;
      const v = post[i];
      let d = -1;
      for (let p = predStart[v]; p < predStart[v + 1]; p++) {
        const u = order[preds[p]];
        if (idom[u] < 0) continue;
        d = d < 0 ? u : intersect(u, d);
      }
      if (d >= 0 && idom[i] !== d) {
        idom[i] = d;
        changed = true;
      }
    }
  }
  // Retained sizes: children before parents in post-order.
  const retained = new Float64Array(m);
  for (let i = 0; i < m; i++) retained[i] += nodes[post[i] * nf + selfF];
  for (let i = 0; i < m; i++) if (i !== root) retained[idom[i]] += retained[i];

  const typeName = (v) => nodeTypes[nodes[v * nf + typeF]];
  const className = (v) => {
    const t = typeName(v);
    if (t === 'object' || t === 'closure' || t === 'native') return `${strings[nodes[v * nf + nameF]] || '(anonymous)'}${t === 'closure' ? '()' : ''}`;
    if (t === 'hidden' || t === 'synthetic') return `(${t}) ${strings[nodes[v * nf + nameF]]}`.slice(0, 60);
    return `(${t})`;
  };
  // By constructor: self size over all; retained over the outermost instances (not counting a class inside itself).
  const byName = new Map();
  for (let i = 0; i < m; i++) {
    const v = post[i];
    const name = className(v);
    let row = byName.get(name);
    if (!row) byName.set(name, (row = { name, count: 0, selfBytes: 0, retainedBytes: 0 }));
    row.count++;
    row.selfBytes += nodes[v * nf + selfF];
    let outer = true;
    for (let d = idom[i]; d !== root; d = idom[d]) if (className(post[d]) === name) { outer = false; break; }
    if (outer) row.retainedBytes += retained[i];
  }
  // Owners: the dominator tree's nodes above the threshold; the path names the edge from each dominator.
  const edgeName = (from, to) => {
    for (let e = firstEdge[from]; e < firstEdge[from + 1]; e += ef) {
      if (edges[e + eToF] / nf !== to) continue;
      const t = edgeTypes[edges[e + eTypeF]];
      const nm = edges[e + eNameF];
      return t === 'element' || t === 'hidden' ? `[${nm}]` : `.${strings[nm]}`;
    }
    return '~';
  };
  const owners = [];
  for (let i = 0; i < m; i++) {
    if (i === root || retained[i] < minOwnerBytes) continue;
    const parts = [];
    for (let c = i; c !== root && parts.length < 12; c = idom[c]) parts.unshift(`${className(post[c])}${edgeName(post[idom[c]], post[c])}`.replace(/^(.*?)(\.|\[|~)/, '$2$1 '));
    owners.push({ path: parts.join(' > '), name: className(post[i]), retainedBytes: retained[i], selfBytes: nodes[post[i] * nf + selfF] });
  }
  owners.sort((a, b) => b.retainedBytes - a.retainedBytes);
  const byConstructor = [...byName.values()].sort((a, b) => b.retainedBytes - a.retainedBytes).slice(0, 40);
  return { nodes: m, totalBytes: retained[root], byConstructor, owners: owners.slice(0, 60) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/heap-summary.mjs <file.heapsnapshot>\n');
    process.exit(2);
  }
  // JSON.parse needs the whole file as one string, and V8's strings stop at 2^29 characters: a larger snapshot
  // (10 000 services) is reported as not summarised rather than failing the run that took it.
  if (statSync(file).size >= 0x1fffffe8) {
    process.stderr.write(`${file}: too large to summarise with JSON.parse (${statSync(file).size} bytes)\n`);
    process.stdout.write('null\n');
  } else {
    process.stdout.write(JSON.stringify(summarise(JSON.parse(readFileSync(file, 'utf8'))), null, 1) + '\n');
  }
}
