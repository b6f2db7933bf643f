// Fails on any import cycle in src/: between files (type-only imports aside: two entities may
// name each other), and between the top-level folders of src/ (every import counts), so that
// each folder depends only on folders below it. `npm run check` runs it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const root = resolve(process.argv[2] ?? 'src');

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (name.endsWith('.ts') && !name.endsWith('.spec.ts')) yield path;
  }
}

/** The relative imports of a file: `[target, typeOnly]`. */
function importsOf(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const found = [];
  for (const node of source.statements) {
    const specifier = node.moduleSpecifier;
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
    let typeOnly = false;
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      typeOnly = Boolean(
        clause &&
        (clause.isTypeOnly ||
          (!clause.name &&
            named &&
            ts.isNamedImports(named) &&
            named.elements.length > 0 &&
            named.elements.every((e) => e.isTypeOnly))),
      );
    } else if (ts.isExportDeclaration(node)) {
      typeOnly = node.isTypeOnly;
    } else continue;
    const target = resolve(dirname(file), specifier.text.replace(/\.js$/, '.ts'));
    found.push([target, typeOnly]);
  }
  return found;
}

/** Strongly connected components of more than one node (or a node importing itself). */
function cycles(graph) {
  let index = 0;
  const stack = [];
  const meta = new Map();
  const result = [];
  const visit = (node) => {
    meta.set(node, { index, low: index, onStack: true });
    index += 1;
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!meta.has(next)) {
        visit(next);
        meta.get(node).low = Math.min(meta.get(node).low, meta.get(next).low);
      } else if (meta.get(next).onStack) {
        meta.get(node).low = Math.min(meta.get(node).low, meta.get(next).index);
      }
    }
    if (meta.get(node).low === meta.get(node).index) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        meta.get(member).onStack = false;
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) result.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!meta.has(node)) visit(node);
  return result;
}

const files = new Map();
const folders = new Map();
const folderOf = (file) => {
  const parts = relative(root, file).split(sep);
  return parts.length > 1 ? parts[0] : undefined;
};
const edges = new Map();
for (const file of sources(root)) {
  const name = relative(root, file);
  files.set(name, new Set());
  for (const [target, typeOnly] of importsOf(file)) {
    const to = relative(root, target);
    if (!typeOnly) files.get(name).add(to);
    const [a, b] = [folderOf(file), folderOf(target)];
    if (a && b && a !== b) {
      if (!folders.has(a)) folders.set(a, new Set());
      folders.get(a).add(b);
      edges.set(`${a} -> ${b}`, `${name} imports ${to}`);
    }
  }
}

const problems = [
  ...cycles(files).map((c) => `files import each other in a cycle: ${c.join(', ')}`),
  ...cycles(folders).map(
    (c) =>
      `folders import each other in a cycle: ${c.join(', ')} (${c
        .flatMap((a) =>
          c.filter((b) => folders.get(a)?.has(b)).map((b) => edges.get(`${a} -> ${b}`)),
        )
        .join('; ')})`,
  ),
];
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(
  `import-cycles: none among ${files.size} files in ${folders.size} folders of ${relative(process.cwd(), root) || '.'}`,
);
