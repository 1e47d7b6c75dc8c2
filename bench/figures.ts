/**
 * `npm run docs:figures`: rewrites every figures block of README.md and docs/*.md from
 * bench/results/ (bench/lib/figures.ts), and says which files changed.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { figureBlocks, withFigures } from './lib/figures';

/** The Markdown files whose figures are generated. */
export const DOC_FILES = [
  'README.md',
  ...readdirSync(path.join(__dirname, '..', 'docs'))
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];

function main(): void {
  const root = path.join(__dirname, '..');
  for (const file of DOC_FILES) {
    const text = readFileSync(path.join(root, file), 'utf8');
    const blocks = figureBlocks(text);
    if (blocks.length === 0) continue;
    const updated = withFigures(text);
    if (updated === text) {
      console.log(`${file}: ${blocks.join(', ')} up to date`);
      continue;
    }
    writeFileSync(path.join(root, file), updated);
    console.log(`${file}: ${blocks.join(', ')} regenerated`);
  }
}

if (require.main === module) main();
