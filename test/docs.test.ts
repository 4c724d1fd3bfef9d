// Every public export has a doc comment with an @example (what the typedoc reference and editors
// show). Read from the sources with the TypeScript compiler, through the three entry points.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRIES = ['src/index.ts', 'src/testing.ts', 'src/ndarray.ts'].map((e) => ROOT + e);

describe('doc comments', () => {
  it('every runtime export of every entry has a doc comment with an @example', () => {
    const program = ts.createProgram(ENTRIES, {
      target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
      // only our sources are parsed (no lib, no @types): exports and comments need no type checking,
      // and a minute of synchronous parsing under load starves vitest's worker heartbeat
      noLib: true, types: [], noEmit: true,
    });
    const checker = program.getTypeChecker();
    const missing: string[] = [];
    let total = 0;
    for (const entry of ENTRIES) {
      const mod = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
      for (let s of checker.getExportsOfModule(mod)) {
        if (s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
        if (!(s.flags & ts.SymbolFlags.Value)) continue; // types are documented where they are used
        total++;
        const decl = s.declarations![0]!;
        const node = ts.isVariableDeclaration(decl) ? decl.parent.parent : decl;
        const file = decl.getSourceFile().fileName;
        const ok = ts.getJSDocCommentsAndTags(node).length > 0 && ts.getJSDocTags(node).some((t) => t.tagName.text === 'example');
        if (!ok) missing.push(`${s.getName()} (${file.slice(ROOT.length)})`);
      }
    }
    expect(total).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  }, 60_000);
});
