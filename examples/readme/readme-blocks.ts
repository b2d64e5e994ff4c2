/**
 * Finds the ```ts blocks of the READMEs, type-checks them in one TypeScript
 * program against the workspace sources, and composes the module each one
 * runs as. See `readme-examples.test.ts` for the comment convention.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { workspaceAliases } from '../../vitest.shared.ts';

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Hidden code a README comment adds before or after a block, with where it is in the README. */
export interface HiddenCode {
  code: string;
  /** 1-based README line of the first code line. */
  line: number;
}

export interface ReadmeBlock {
  /** Path of the README, relative to the repository root. */
  readme: string;
  /** 1-based README line of the opening fence. */
  line: number;
  /** The block as a reader sees it. */
  code: string;
  before: HiddenCode | undefined;
  after: HiddenCode | undefined;
  /** Why the block is only type-checked; `undefined` when it runs. */
  typecheckOnly: string | undefined;
  /** A real redis-server must be running, its URL in `REDIS_URL`. */
  needsRedis: boolean;
  /**
   * The module the block becomes: a file beside its README that does not
   * exist on disk, so bare imports resolve as they would for that README's
   * package.
   */
  fileName: string;
}

/** A comment of the convention that is not followed by a ```ts block, or that cannot be read. */
export class ReadmeConventionError extends Error {
  constructor(readme: string, line: number, message: string) {
    super(`${readme}:${line}: ${message}`);
    this.name = 'ReadmeConventionError';
  }
}

/** README.md, packages/*\/README.md and docs/*.md, relative to the repository root. */
export function findReadmes(root = repositoryRoot): string[] {
  const found = ['README.md'];
  for (const name of readdirSync(join(root, 'packages')).sort()) {
    if (existsSync(join(root, 'packages', name, 'README.md'))) found.push(`packages/${name}/README.md`);
  }
  if (existsSync(join(root, 'docs'))) {
    for (const name of readdirSync(join(root, 'docs')).sort()) {
      if (name.endsWith('.md')) found.push(`docs/${name}`);
    }
  }
  return found;
}

const directivePrefix = /^<!--\s*readme-check:\s*/;
const tsFence = /^```(ts|typescript)\s*$/;

/** The ```ts blocks of one README, with the `readme-check` comments before each. */
export function extractBlocks(readme: string, text: string, root = repositoryRoot): ReadmeBlock[] {
  const lines = text.split('\n');
  const blocks: ReadmeBlock[] = [];
  let pending: Array<{ line: number; head: string; body: string[] }> = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    if (directivePrefix.test(line)) {
      const start = index;
      const content: string[] = [line.replace(directivePrefix, '')];
      while (!content[content.length - 1]!.includes('-->')) {
        index++;
        if (index >= lines.length) throw new ReadmeConventionError(readme, start + 1, 'readme-check comment is not closed with -->');
        content.push(lines[index]!);
      }
      content[content.length - 1] = content[content.length - 1]!.replace(/\s*-->\s*$/, '');
      // `-->` on a line of its own ends the code; it is not a line of it.
      if (content.length > 1 && content[content.length - 1]!.trim() === '') content.pop();
      pending.push({ line: start + 1, head: content[0]!.trim(), body: content.slice(1) });
      index++;
      continue;
    }
    if (line.startsWith('```')) {
      const fenceLine = index + 1;
      const checked = tsFence.test(line);
      const body: string[] = [];
      index++;
      while (index < lines.length && lines[index]!.trim() !== '```') body.push(lines[index++]!);
      if (index >= lines.length) throw new ReadmeConventionError(readme, fenceLine, 'code block is not closed');
      index++;
      if (!checked) {
        if (pending.length > 0) {
          throw new ReadmeConventionError(readme, pending[0]!.line, 'readme-check comment is not followed by a ```ts block');
        }
        continue;
      }
      blocks.push(makeBlock(readme, fenceLine, body.join('\n'), pending, root));
      pending = [];
      continue;
    }
    if (line.trim() !== '' && pending.length > 0) {
      throw new ReadmeConventionError(readme, pending[0]!.line, 'readme-check comment is not followed by a ```ts block');
    }
    index++;
  }
  if (pending.length > 0) {
    throw new ReadmeConventionError(readme, pending[0]!.line, 'readme-check comment is not followed by a ```ts block');
  }
  return blocks;
}

function makeBlock(
  readme: string,
  line: number,
  code: string,
  directives: Array<{ line: number; head: string; body: string[] }>,
  root: string,
): ReadmeBlock {
  const block: ReadmeBlock = {
    readme,
    line,
    code,
    before: undefined,
    after: undefined,
    typecheckOnly: undefined,
    needsRedis: false,
    fileName: join(root, dirname(readme), `${readme.split('/').pop()}.block-${line}.ts`),
  };
  for (const directive of directives) {
    const typecheckOnly = /^typecheck-only\b[\s:—-]*(.*)$/.exec(directive.head);
    if (typecheckOnly) {
      const reason = typecheckOnly[1]!.trim();
      if (reason === '') throw new ReadmeConventionError(readme, directive.line, '`typecheck-only` needs a reason');
      block.typecheckOnly = reason;
    } else if (directive.head === 'before' || directive.head === 'after') {
      block[directive.head] = { code: directive.body.join('\n'), line: directive.line + 1 };
    } else if (directive.head === 'needs redis') {
      block.needsRedis = true;
    } else {
      throw new ReadmeConventionError(
        readme,
        directive.line,
        `unknown readme-check directive "${directive.head}" (known: typecheck-only <reason>, before, after, needs redis)`,
      );
    }
    if (directive.head !== 'before' && directive.head !== 'after' && directive.body.some((text) => text.trim() !== '')) {
      throw new ReadmeConventionError(readme, directive.line, `"${directive.head}" takes no code`);
    }
  }
  return block;
}

/** Every README's blocks, read now (so an edited README is what gets checked). */
export function readAllBlocks(root = repositoryRoot): ReadmeBlock[] {
  return findReadmes(root).flatMap((readme) => extractBlocks(readme, readFileSync(join(root, readme), 'utf8'), root));
}

export interface Composed {
  text: string;
  /** README line of each line of `text` (1-based). */
  readmeLines: number[];
}

/** The module a block becomes: hidden `before` code, the block, hidden `after` code. */
export function composeBlock(block: ReadmeBlock): Composed {
  const parts: string[] = [];
  const readmeLines: number[] = [];
  const add = (code: string, firstLine: number) => {
    const codeLines = code.split('\n');
    codeLines.forEach((text, offset) => {
      parts.push(text);
      readmeLines.push(firstLine + offset);
    });
  };
  if (block.before) add(block.before.code, block.before.line);
  add(block.code, block.line + 1);
  if (block.after) add(block.after.code, block.after.line);
  // Every block is a module of its own, even one without imports.
  parts.push('export {};');
  readmeLines.push(block.line);
  return { text: `${parts.join('\n')}\n`, readmeLines };
}

/**
 * A line-by-line source map from a composed block to its README, so a stack
 * trace of a block that fails when run points at the README's lines.
 */
export function blockSourceMap(block: ReadmeBlock, composed: Composed, readmeText: string) {
  let previous = 0;
  const mappings = composed.readmeLines
    .map((readmeLine) => {
      const delta = readmeLine - 1 - previous;
      previous = readmeLine - 1;
      return `AA${vlq(delta)}A`;
    })
    .join(';');
  return { version: 3, file: block.fileName, sources: [join(repositoryRoot, block.readme)], sourcesContent: [readmeText], names: [], mappings };
}

function vlq(value: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let rest = value < 0 ? (-value << 1) | 1 : value << 1;
  let encoded = '';
  do {
    let digit = rest & 31;
    rest >>>= 5;
    if (rest > 0) digit |= 32;
    encoded += alphabet[digit];
  } while (rest > 0);
  return encoded;
}

// Packages the READMEs mention that the workspace does not depend on: their
// types are `any` here, so only our side of such a block is checked.
const shims = `
declare module 'express';
`;

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(repositoryRoot, 'tsconfig.base.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repositoryRoot, undefined, configPath);
  // Imports of @taskbuffer/* resolve to the sources, as vitest's aliases do.
  const paths: Record<string, string[]> = {};
  for (const alias of workspaceAliases) {
    const specifier = alias.find.source.replace(/^\^/, '').replace(/\$$/, '').replaceAll('\\/', '/');
    paths[specifier] = [relative(repositoryRoot, alias.replacement)];
  }
  return { ...parsed.options, baseUrl: repositoryRoot, paths, noEmit: true, declaration: false, noUnusedLocals: false };
}

/** A diagnostic of one block, located in its README. */
export interface BlockDiagnostic {
  block: ReadmeBlock;
  /** 1-based README line. */
  line: number;
  /** `TS2322: …` */
  message: string;
}

/**
 * Type-checks every block in one program. Returns the diagnostics of each
 * block (by `fileName`), each pointed at its README line.
 */
export function typecheckBlocks(blocks: ReadmeBlock[]): Map<string, BlockDiagnostic[]> {
  const options = compilerOptions();
  const composed = new Map<string, { block: ReadmeBlock; composed: Composed }>();
  for (const block of blocks) composed.set(block.fileName, { block, composed: composeBlock(block) });
  const shimFile = join(repositoryRoot, 'examples', 'readme', 'readme-shims.d.ts');
  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const entry = composed.get(fileName);
    if (entry) return ts.createSourceFile(fileName, entry.composed.text, languageVersion, true);
    if (fileName === shimFile) return ts.createSourceFile(fileName, shims, languageVersion, true);
    return getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => composed.has(fileName) || fileName === shimFile || fileExists(fileName);
  const readFile = host.readFile.bind(host);
  host.readFile = (fileName) => composed.get(fileName)?.composed.text ?? (fileName === shimFile ? shims : readFile(fileName));

  const program = ts.createProgram({ rootNames: [...composed.keys(), shimFile], options, host });
  const result = new Map<string, BlockDiagnostic[]>();
  const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const [fileName, { block, composed: text }] of composed) {
    const sourceFile = program.getSourceFile(fileName)!;
    const diagnostics = [...global, ...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)];
    result.set(
      fileName,
      diagnostics.map((diagnostic) => {
        const message = `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
        if (diagnostic.file?.fileName !== fileName || diagnostic.start === undefined) {
          return { block, line: block.line, message };
        }
        const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
        return { block, line: text.readmeLines[line] ?? block.line, message };
      }),
    );
  }
  return result;
}
