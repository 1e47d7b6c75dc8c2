/**
 * Docs that cannot drift: every command, path, link and environment variable README.md and
 * docs/ name exists, and every figure they show is the one bench/results holds (the blocks
 * `npm run docs:figures` writes, bench/lib/figures.ts). A sentence the code contradicts is
 * a bug; these are the ones a machine can find.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { DOC_FILES } from '../../bench/figures';
import { withFigures } from '../../bench/lib/figures';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
/** Commands npm has itself. */
const NPM_COMMANDS = new Set(['start', 'test', 'ci']);
/**
 * The repository's own top-level entries, from its tracked files: a path that starts with one
 * of them must exist. Not what is on disk: `.data/` exists only after an `npm start`, and its
 * files (the pid file) only while one runs.
 */
const TOP_LEVEL = new Set(
  execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((file) => file && !file.startsWith('.git'))
    .map((file) => file.split('/')[0]!),
);
/** What the code says: every tracked source and configuration file, for the names docs use. */
const SOURCES = execFileSync('git', ['ls-files', '*.ts', '*.cjs', '*.json', '*.jsonc', '.ci/run', '.github/**'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((file) => file && !file.startsWith('bench/results/') && file !== 'package-lock.json' && existsSync(path.join(ROOT, file)))
  .map(read)
  .join('\n');
/**
 * Environment variables docs may name that our code never reads itself: AWS's and Terraform's
 * own, the Lambda runtime's, and the frontend's.
 */
const EXTERNAL_VARIABLES = new Set([
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'REACT_APP_BACKEND_URL',
  'REACT_APP_BACKEND_WS_URL',
  // The examples' own shell variables.
  'API_URL',
  'ACCESS_TOKEN',
]);

/** Text between backticks, outside fenced code, and the lines of fenced code blocks. */
function codeSpans(markdown: string): string[] {
  const spans: string[] = [];
  const fences = markdown.split(/^```.*$/m);
  fences.forEach((part, index) => {
    if (index % 2 === 1) spans.push(...part.split('\n'));
    else for (const match of part.matchAll(/`([^`\n]+)`/g)) spans.push(match[1]!);
  });
  return spans;
}

/** GitHub's anchor of a heading. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsIn(file: string): Set<string> {
  return new Set([...read(file).matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1]!.replace(/`/g, ''))));
}

describe.each(DOC_FILES)('%s', (file) => {
  const text = read(file);
  const spans = codeSpans(text);

  it('names only npm scripts that exist', () => {
    const named = [...text.matchAll(/\bnpm (?:run (?:-s )?([\w:*-]+)|(start|test|ci)\b)/g)].map((match) => match[1] ?? match[2]!);
    // `ddb:*` names a family of scripts: at least one must exist.
    const exists = (name: string) =>
      NPM_COMMANDS.has(name) || name in scripts || (name.endsWith('*') && Object.keys(scripts).some((script) => script.startsWith(name.slice(0, -1))));
    const missing = named.filter((name) => !exists(name));
    expect(missing).toEqual([]);
  });

  it('links only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?|mailto):/.test(target!)) continue;
      const [relative, anchor] = target!.split('#') as [string, string | undefined];
      const linked = relative === '' ? file : path.normalize(path.join(path.dirname(file), relative));
      if (!existsSync(path.join(ROOT, linked))) broken.push(`${target} (no file ${linked})`);
      else if (anchor && statSync(path.join(ROOT, linked)).isFile() && linked.endsWith('.md') && !anchorsIn(linked).has(anchor))
        broken.push(`${target} (no heading #${anchor})`);
    }
    expect(broken).toEqual([]);
  });

  it('names only paths of this repository that exist', () => {
    const missing = new Set<string>();
    for (const span of spans) {
      for (const [token] of span.matchAll(/(?<![\w./-])\.?[\w-]+(?:\/[\w.-]*)+/g)) {
        const [first] = token.split('/');
        // Placeholders (<name>, {env}, …) are not paths; only the repository's own roots are checked.
        if (!TOP_LEVEL.has(first!) || /[<>{}*…]/.test(span.slice(span.indexOf(token), span.indexOf(token) + token.length + 1))) continue;
        if (!existsSync(path.join(ROOT, token.replace(/[.:]$/, '')))) missing.add(token);
      }
    }
    expect([...missing]).toEqual([]);
  });

  it('names only environment variables the code reads', () => {
    const unknown = new Set<string>();
    for (const span of spans) {
      for (const [name] of span.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g)) {
        if (EXTERNAL_VARIABLES.has(name!) || SOURCES.includes(name!)) continue;
        unknown.add(name!);
      }
    }
    expect([...unknown]).toEqual([]);
  });

  it('shows the figures bench/results holds (npm run docs:figures rewrites them)', () => {
    expect(withFigures(text)).toBe(text);
  });
});
