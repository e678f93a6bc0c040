// The layering of src/ (docs/architecture.md): every layer imports only the layers below it, and
// nothing imports in a circle. `npm run lint` runs this check.
/** Layers from the ground up: each may import itself and the layers listed in `may`. */
const layers = [
  { name: 'util', path: '^src/util/', may: [] },
  { name: 'types', path: '^src/types/', may: ['util'] },
  { name: 'errors', path: '^src/errors/', may: ['util', 'types'] },
  { name: 'wire', path: '^src/wire/', may: ['util', 'types', 'errors'] },
  { name: 'seam', path: '^src/seam/', may: ['util', 'types', 'errors', 'wire'] },
  { name: 'request', path: '^src/request/', may: ['util', 'types', 'errors', 'wire'] },
  { name: 'worker', path: '^(src/worker/|workers/)', may: ['util', 'types', 'errors', 'wire'] },
  { name: 'pool', path: '^src/pool/', may: ['util', 'types', 'errors', 'wire', 'seam'] },
  { name: 'routing', path: '^src/routing/', may: ['util', 'types', 'errors', 'wire', 'seam', 'request'] },
  { name: 'config', path: '^src/config/', may: ['util', 'types', 'errors', 'wire', 'seam', 'request', 'routing'] },
  { name: 'transport', path: '^src/transport/', may: ['util', 'types', 'errors', 'wire', 'seam', 'request', 'pool', 'routing', 'config'] },
  { name: 'engine', path: '^src/engine/', may: ['util', 'types', 'errors', 'wire', 'seam', 'request', 'pool'] },
  { name: 'openai', path: '^src/openai/', may: ['util', 'types', 'errors', 'wire', 'seam', 'request', 'engine'] },
  {
    name: 'supervisor',
    path: '^src/supervisor/',
    may: ['util', 'types', 'errors', 'wire', 'seam', 'request', 'pool', 'routing', 'config', 'transport', 'engine', 'openai'],
  },
  {
    name: 'api',
    path: '^src/api[.]ts$',
    may: ['util', 'types', 'errors', 'wire', 'seam', 'request', 'pool', 'routing', 'config', 'transport', 'engine', 'openai', 'supervisor'],
  },
  { name: 'apps', path: '^src/apps/', may: ['api'] },
  { name: 'index', path: '^src/index[.]ts$', may: ['api', 'apps'] },
];
const pathOf = Object.fromEntries(layers.map((l) => [l.name, l.path]));

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'Files that import each other in a loop.', from: {}, to: { circular: true } },
    ...layers.map((layer) => ({
      name: `layer-${layer.name}`,
      severity: 'error',
      comment: `${layer.name} imports only ${layer.may.join(', ') || 'nothing in src'} (and itself).`,
      from: { path: layer.path },
      to: { path: '^(src|workers)/', pathNot: [layer.path, ...layer.may.map((name) => pathOf[name])] },
    })),
    {
      name: 'nothing-imports-benchmarks',
      severity: 'error',
      comment: 'Benchmarks are programs: the package, its apps and its tests never import them.',
      from: { pathNot: '^benchmarks/' },
      to: { path: '^benchmarks/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    // TypeScript 7's compiler has no JavaScript API for it to use: swc parses the sources.
    parser: 'swc',
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
