#!/usr/bin/env node
/*
 * Prints the folder-level import graph of src/ and exits 1 when folders import each other in a
 * circle. A node is a folder directly under src/, or a module in src/ itself; an edge is any import
 * between two nodes, type-only imports included: a type import ties a contract to the module above
 * it as surely as a value import does. Plain JavaScript: CI runs it before anything is built.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const src = path.join(__dirname, '..', 'src');

function sourceFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * The node a file belongs to: its first folder under src/, or its own name when it sits in src/.
 * dialects/ holds plug-ins, not one concern: each dialect's folder and each module beside them (the
 * contract, the registry, inbound routes' services) is a node of its own, so that a dialect may use a
 * shared module (hostedMsp/) that itself uses only the contract.
 */
function nodeOf(file) {
  const [first, ...rest] = path.relative(src, file).split(path.sep);
  if (first === 'dialects' && rest.length > 0) return `dialects/${rest[0].replace(/\.ts$/, '')}`;
  return rest.length > 0 ? first : first.replace(/\.ts$/, '');
}

function importedNodes(file) {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map(({ fileName }) => fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => path.resolve(path.dirname(file), name))
    .filter((target) => target.startsWith(src + path.sep))
    .map(nodeOf);
}

function folderGraph() {
  const graph = new Map();
  for (const file of sourceFiles(src)) {
    const from = nodeOf(file);
    if (!graph.has(from)) graph.set(from, new Set());
    for (const to of importedNodes(file)) if (to !== from) graph.get(from).add(to);
  }
  return graph;
}

/** Tarjan's strongly connected components; a component of more than one node is a circle. */
function circles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let next = 0;
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node), low.get(to)));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node), index.get(to)));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return found;
}

const graph = folderGraph();
for (const node of [...graph.keys()].sort()) {
  const targets = [...graph.get(node)].sort();
  console.log(`${node} -> ${targets.length > 0 ? targets.join(', ') : '(nothing)'}`);
}
const found = circles(graph);
for (const component of found) console.log(`circle: ${component.join(', ')}`);
if (found.length > 0) process.exit(1);
console.log('no circle between folders');
