// The layering of docs/architecture.md as an ESLint rule that judges the file an import
// resolves to, not the text of its specifier: `./../worker/x.js` and `../desktop/../worker/x.js`
// are the worker wherever they are written. Options (set in eslint.config.js):
//   areas:      area → the other areas it may import (its own is always allowed)
//   coreLayers: electron/core's folders bottom to top; a folder imports its own and lower layers only
//   electron:   the areas that may import the 'electron' package
//   noPackages: area → why it may import no package at all (node:* included)
//   noNode:     area → why it may import no node:* module
import path from 'node:path';

/** Which area a file belongs to: `shared`, `core/backup`, `renderer`, `test`… or null (root config files). */
export function areaOf(file, root) {
  const rel = path.relative(root, file).split(path.sep);
  if (rel[0] === 'renderer' || rel[0] === 'test') return rel[0];
  if (rel[0] !== 'electron' || rel.length < 3) return null;
  if (rel[1] !== 'core') return rel[1];
  return rel.length === 3 ? 'core/(base)' : `core/${rel[2]}`;
}

function coreRank(area, layers) {
  const folder = area.slice('core/'.length);
  const rank = layers.findIndex((layer) => layer.includes(folder));
  return rank;
}

/** Why `from` may not import `to` (both areas), or null when it may. */
export function crossing(from, to, o) {
  if (from === to || from === 'test') return null;
  const top = (a) => (a.startsWith('core/') ? 'core' : a);
  if (top(from) !== top(to)) {
    return (o.areas[top(from)] ?? []).includes(top(to)) ? null : `${top(from)} may not import ${top(to)} (it may import: ${(o.areas[top(from)] ?? []).join(', ') || 'nothing'}).`;
  }
  if (top(from) !== 'core') return null;
  const a = coreRank(from, o.coreLayers);
  const b = coreRank(to, o.coreLayers);
  if (a < 0 || b < 0) return `${a < 0 ? from : to} is not in coreLayers (eslint.config.js): give it its place in the engine's layers.`;
  return b < a ? null : `${from} may not import ${to}: inside the engine a folder imports only lower layers (${o.coreLayers.map((l) => l.join(' ')).join(' < ')}).`;
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'Who may import whom, by the resolved path (docs/architecture.md)' },
    schema: [{ type: 'object', additionalProperties: true }],
  },
  create(context) {
    const o = context.options[0];
    const root = context.cwd;
    const file = context.filename;
    const from = areaOf(file, root);
    if (!from) return {};
    const check = (node, spec) => {
      if (typeof spec !== 'string') return;
      if (spec.startsWith('.')) {
        const to = areaOf(path.resolve(path.dirname(file), spec), root);
        const why = to === null ? (from === 'test' ? null : `${spec} leaves the project's source folders.`) : crossing(from, to, o);
        if (why) context.report({ node, message: `${spec}: ${why}` });
        return;
      }
      if (from === 'test') return;
      const name = spec.startsWith('node:') ? 'node:*' : spec;
      if (o.noPackages[from]) return context.report({ node, message: `${spec}: ${o.noPackages[from]}` });
      if (name === 'node:*' && o.noNode[from]) return context.report({ node, message: `${spec}: ${o.noNode[from]}` });
      if (spec === 'electron' && !o.electron.includes(from.split('/')[0])) {
        context.report({ node, message: "'electron': only electron/main and electron/preload may import it; pass what you need in." });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
      TSImportEqualsDeclaration: (node) => node.moduleReference.type === 'TSExternalModuleReference' && check(node, node.moduleReference.expression.value),
    };
  },
};
