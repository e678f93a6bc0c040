// The layering of src/ (docs/architecture.md): every layer imports only the layers below it, and
// nothing imports in a circle. `npm run lint` runs this check.
/** Layers from the ground up: each may import itself and the layers listed in `may`. */
const layers = [
  { name: 'util', path: '^src/util/', may: [] },
  { name: 'types', path: '^src/types/', may: ['util'] },
  { name: 'errors', path: '^src/errors/', may: ['util', 'types'] },
  { name: 'wire', path: '^src/wire/', may: ['util', 'types', 'errors'] },
  { name: 'seam', path: '^src/seam/', may: ['util', 'types', 'errors', 'wire'] },
  { name: 'telemetry', path: '^src/telemetry/', may: ['util', 'types', 'errors', 'wire', 'seam'] },
  { name: 'request', path: '^src/request/', may: ['util', 'types', 'errors', 'wire'] },
  { name: 'worker', path: '^(src/worker/|workers/)', may: ['util', 'types', 'errors', 'wire'] },
  { name: 'pool', path: '^src/pool/', may: ['util', 'types', 'errors', 'wire', 'seam'] },
  { name: 'routing', path: '^src/routing/', may: ['util', 'types', 'errors', 'wire', 'seam', 'request'] },
  { name: 'config', path: '^src/config/', may: ['util', 'types', 'errors', 'wire', 'seam', 'request', 'routing'] },
  {
    name: 'transport',
    path: '^src/transport/',
    may: ['util', 'types', 'errors', 'wire', 'seam', 'telemetry', 'request', 'pool', 'routing', 'config'],
  },
  { name: 'engine', path: '^src/engine/', may: ['util', 'types', 'errors', 'wire', 'seam', 'request', 'pool'] },
  { name: 'openai', path: '^src/openai/', may: ['util', 'types', 'errors', 'wire', 'seam', 'request', 'engine'] },
  {
    name: 'supervisor',
    path: '^src/supervisor/',
    may: ['util', 'types', 'errors', 'wire', 'seam', 'telemetry', 'request', 'pool', 'routing', 'config', 'transport', 'engine', 'openai'],
  },
  {
    name: 'api',
    path: '^src/api/',
    may: ['util', 'types', 'errors', 'wire', 'seam', 'telemetry', 'request', 'pool', 'routing', 'config', 'transport', 'engine', 'openai', 'supervisor'],
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
      name: 'every-src-file-in-a-layer',
      severity: 'error',
      comment: 'A file of src/ outside every layer escapes the layer rules: give it a layer (or a folder of one).',
      from: { path: '^src/', pathNot: layers.map((layer) => layer.path) },
      to: {},
    },
    {
      name: 'benchmarks-use-the-package',
      severity: 'error',
      comment: 'Benchmarks import the package (its entry, the internal entry of the apps, the apps) and the test support that starts processes.',
      from: { path: '^benchmarks/' },
      to: { path: '^(src|test|workers)/', pathNot: '^(src/index[.]ts|src/api/|src/apps/|test/support/)' },
    },
    {
      name: 'examples-use-the-package',
      severity: 'error',
      comment: "Examples are what a user copies: they import 'sessionpool' (and its subpaths), never a file of the repository.",
      from: { path: '^examples/' },
      to: { path: '^(src|test|workers|benchmarks)/' },
    },
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
    // The consumer project of the package test imports the built package, not these files; swc's
    // reader in dependency-cruiser 18 stops at an `await using` declaration, which one test uses
    // (it imports only the public entry, as every file under test/engine may).
    exclude: { path: '^(node_modules|dist)/|^test/package/consumer/|^test/engine/close[.]test[.]ts$' },
    // TypeScript 7's compiler has no JavaScript API for dependency-cruiser: swc parses the sources,
    // and sees type-only imports as the imports they are (a type import counts against the layers too).
    parser: 'swc',
    tsPreCompilationDeps: false,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
