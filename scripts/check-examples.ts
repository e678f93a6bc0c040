// `npm run docs`, after TypeDoc: every exported function and class of the package's entries, and
// every public method of an exported class, carries an `@example` in its TSDoc (TypeDoc's own
// validation checks that each is documented, not that it shows how to use it).
// Usage: node scripts/check-examples.ts docs/api/api.json
import { readFileSync } from 'node:fs';

interface Comment {
  blockTags?: { tag: string }[];
}
interface Reflection {
  id: number;
  name: string;
  kind: number;
  comment?: Comment;
  inheritedFrom?: unknown;
  flags?: { isPrivate?: boolean; isProtected?: boolean; isExternal?: boolean };
  signatures?: { comment?: Comment }[];
  children?: Reflection[];
}

// TypeDoc's ReflectionKind values.
const MODULE = 2;
const FUNCTION = 64;
const CLASS = 128;
const METHOD = 2048;

const file = process.argv[2];
if (file === undefined) throw new Error('usage: node scripts/check-examples.ts <typedoc json>');
const project = JSON.parse(readFileSync(file, 'utf8')) as Reflection;

const hasExample = (comment: Comment | undefined): boolean => comment?.blockTags?.some((tag) => tag.tag === '@example') ?? false;
// A class's comment is on the class; a function's or a method's on its signatures (one is enough).
const shown = (r: Reflection): boolean => (r.kind === CLASS ? hasExample(r.comment) : (r.signatures ?? []).some((s) => hasExample(s.comment)));

const missing: string[] = [];
const seen = new Set<number>();
const modules = project.children?.some((c) => c.kind === MODULE) ? (project.children ?? []) : [project];
for (const module of modules) {
  for (const r of module.children ?? []) {
    if (seen.has(r.id) || (r.kind !== FUNCTION && r.kind !== CLASS)) continue;
    seen.add(r.id);
    if (!shown(r)) missing.push(`${module.name}: ${r.name}`);
    for (const m of r.kind === CLASS ? (r.children ?? []) : []) {
      if (m.kind !== METHOD || m.inheritedFrom !== undefined || m.flags?.isPrivate || m.flags?.isProtected || m.flags?.isExternal) continue;
      if (!shown(m)) missing.push(`${module.name}: ${r.name}.${m.name}`);
    }
  }
}
for (const name of missing) console.error(`no @example: ${name}`);
console.log(`${seen.size} exported functions and classes checked for @example: ${missing.length} without`);
process.exitCode = missing.length === 0 ? 0 : 1;
