import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { parse } from 'acorn';
import { simple } from 'acorn-walk';

export interface PackageManifest {
  name: string;
  private?: boolean;
  bin?: Record<string, string>;
  files?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** The JavaScript files a package publishes (its package.json "files", which lists paths, not globs). */
export function publishedScripts(packageDir: string, manifest: PackageManifest): string[] {
  const out: string[] = [];
  const visit = (path: string): void => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else if (/\.[cm]?js$/.test(path)) out.push(path);
  };
  for (const entry of manifest.files ?? []) {
    if (/[*?!{]/.test(entry)) throw new Error(`${manifest.name}: "files" entry ${entry} is a glob`);
    visit(join(packageDir, entry));
  }
  return out.sort();
}

/**
 * The packages a built file loads at run time, read from its syntax tree (not from text, where generated code
 * in strings would count): import and export ... from, import() of a literal, require() and require.resolve()
 * of a literal (through `require`, as esbuild may rename it — `require2`, `__require` — or a createRequire()
 * result). Node built-ins and relative paths are left out; a deep path counts as its package (`thrift/lib/x` →
 * `thrift`).
 */
export function bareImports(file: string): Set<string> {
  const tree = parse(readFileSync(file, 'utf8'), {
    ecmaVersion: 'latest',
    sourceType: 'module',
    allowHashBang: true,
  });
  const specifiers: string[] = [];
  const literal = (node: unknown): void => {
    const n = node as { type: string; value?: unknown; quasis?: Array<{ value: { cooked: string } }> };
    if (n.type === 'Literal' && typeof n.value === 'string') specifiers.push(n.value);
    if (n.type === 'TemplateLiteral' && n.quasis!.length === 1) specifiers.push(n.quasis![0]!.value.cooked);
  };
  const requireName = /^(__)?require\d*$/;
  const isRequire = (node: { type: string; name?: string; callee?: { type: string; name?: string } }) =>
    (node.type === 'Identifier' && requireName.test(node.name!)) ||
    (node.type === 'CallExpression' &&
      node.callee?.type === 'Identifier' &&
      /require/i.test(node.callee.name!));
  simple(tree, {
    ImportDeclaration: (n) => literal(n.source),
    ExportAllDeclaration: (n) => literal(n.source),
    ExportNamedDeclaration: (n) => n.source && literal(n.source),
    ImportExpression: (n) => literal(n.source),
    CallExpression: (n) => {
      const callee = n.callee as unknown as {
        type: string;
        name?: string;
        object?: { type: string; name?: string };
        property?: { type: string; name?: string };
      };
      const first = n.arguments[0];
      if (!first) return;
      if (callee.type === 'Identifier' && requireName.test(callee.name!)) literal(first);
      if (
        callee.type === 'MemberExpression' &&
        callee.property?.name === 'resolve' &&
        isRequire(callee.object as Parameters<typeof isRequire>[0])
      )
        literal(first);
    },
  });
  const packages = new Set<string>();
  for (const s of specifiers) {
    if (/^(\.|\/|[a-z]+:)/.test(s) || builtinModules.includes(s.split('/')[0]!)) continue;
    packages.add(
      s
        .split('/')
        .slice(0, s.startsWith('@') ? 2 : 1)
        .join('/'),
    );
  }
  return packages;
}
