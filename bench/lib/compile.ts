/**
 * The service as it runs in production is JavaScript compiled from `src/` (`npm start`), not
 * TypeScript through tsx, whose loader alone adds some 80 MB of RSS. Memory is measured on that
 * JavaScript: `src/` and `bench/lib/` are transpiled (no type check: the bench must not depend
 * on the tree type-checking while others edit it) into a temporary folder laid out like the
 * project, with `node_modules` and `drizzle` linked in.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { PROJECT_ROOT } from './project.js';

const FOLDERS = ['src', 'bench/lib'];

let build: Promise<string> | undefined;

async function* typescriptFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* typescriptFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield path;
  }
}

async function transpileProject(): Promise<string> {
  const out = await mkdtemp(join(tmpdir(), 'obs-bench-'));
  for (const folder of FOLDERS) {
    for await (const file of typescriptFiles(join(PROJECT_ROOT, folder))) {
      const { outputText } = ts.transpileModule(await readFile(file, 'utf8'), {
        fileName: file,
        compilerOptions: { target: ts.ScriptTarget.ES2023, module: ts.ModuleKind.ESNext },
      });
      const target = join(out, relative(PROJECT_ROOT, file)).replace(/\.ts$/, '.js');
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, outputText);
    }
  }
  await writeFile(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
  await symlink(join(PROJECT_ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  await symlink(join(PROJECT_ROOT, 'drizzle'), join(out, 'drizzle'), 'dir');
  return out;
}

/** The compiled copy of a project file (`bench/lib/x.ts` -> `<tmp>/bench/lib/x.js`); built once per run. */
export async function compiledPath(projectFile: string): Promise<string> {
  build ??= transpileProject();
  return join(await build, projectFile.replace(/\.ts$/, '.js'));
}

/** Removes the compiled copy, if one was made. */
export async function removeCompiled(): Promise<void> {
  if (!build) return;
  const dir = await build.catch(() => undefined);
  build = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
}
