import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  REPO,
  docCitations,
  githubSlug,
  isExternal,
  markdownAnchors,
  markdownLinks,
  readRepoFile,
  repoPath,
  repoTextFiles,
} from '../helpers/doc-links.js';

/**
 * The repository's references resolve inside the repository: agents read skills/ and docs/ verbatim,
 * and messages tell people to open `docs/…#anchor`. Anchors follow docs/README.md ("Anchors").
 */

const files = repoTextFiles();
const anchorsOf = new Map<string, Set<string>>();
const anchors = (rel: string) => {
  let set = anchorsOf.get(rel);
  if (!set) anchorsOf.set(rel, (set = markdownAnchors(readRepoFile(rel))));
  return set;
};

/** The relative links of a Markdown file, each resolved to a repository path (the file itself for `#anchor`). */
function relativeLinks(file: string) {
  return markdownLinks(readRepoFile(file))
    .filter((link) => !isExternal(link.target))
    .map((link) => {
      const hash = link.target.indexOf('#');
      const pathPart = decodeURIComponent(hash < 0 ? link.target : link.target.slice(0, hash));
      const abs = pathPart === '' ? join(REPO, file) : normalize(join(REPO, dirname(file), pathPart));
      return {
        ...link,
        abs,
        rel: repoPath(abs),
        anchor: hash < 0 ? null : link.target.slice(hash + 1),
        where: `${file}:${link.line}: (${link.target})`,
      };
    });
}

describe('references into docs/', () => {
  test('every docs/… file and #anchor cited anywhere in the repository exists', () => {
    const broken: string[] = [];
    let cited = 0;
    for (const file of files) {
      for (const c of docCitations(readRepoFile(file))) {
        cited += 1;
        const where = `${file}:${c.line}: ${c.text}`;
        if (!existsSync(join(REPO, c.path)) || !statSync(join(REPO, c.path)).isFile())
          broken.push(`${where}: ${c.path} does not exist`);
        else
          for (const a of c.anchors)
            if (!anchors(c.path).has(a)) broken.push(`${where}: ${c.path} has no anchor #${a}`);
      }
    }
    expect(broken).toEqual([]);
    // The scan found the citations (the docs index cites every page): an empty scan would pass vacuously.
    expect(cited).toBeGreaterThan(10);
  });

  test('every relative link in README.md, BENCH.md, docs/, skills/ and examples/ resolves, anchor included', () => {
    const markdown = files.filter(
      (f) =>
        /^(README|BENCH)\.md$/.test(f) || /^(docs|skills)\/.*\.md$/.test(f) || /^examples\/[^/]+\/README\.md$/.test(f),
    );
    expect(markdown).toContain('skills/loop-station/SKILL.md');
    expect(markdown).toContain('docs/README.md');
    const broken: string[] = [];
    for (const file of markdown) {
      for (const { abs, rel, anchor, where } of relativeLinks(file)) {
        if (rel.startsWith('..')) broken.push(`${where}: leads out of the repository`);
        else if (!existsSync(abs)) broken.push(`${where}: ${rel} does not exist`);
        else if (anchor !== null && (!rel.endsWith('.md') || !anchors(rel).has(anchor)))
          broken.push(`${where}: ${rel} has no anchor #${anchor}`);
      }
    }
    expect(broken).toEqual([]);
  });

  test('no file refers a reader to documents outside the repository', () => {
    // Spelled in pieces so this file does not match itself.
    const outside = new RegExp(
      `\\b(?:${['PROTOCOL', 'DESIGN', 'STYLE', 'TEMPORAL', 'AGENT-CLIS'].join('|')})\\.md\\b|\\bnotes/[\\w-]+\\.md\\b`,
    );
    const found: string[] = [];
    for (const file of files) {
      readRepoFile(file)
        .split('\n')
        .forEach((line, i) => {
          if (outside.test(line)) found.push(`${file}:${i + 1}: ${line.trim().slice(0, 160)}`);
        });
    }
    expect(found).toEqual([]);
  });
});

describe('the anchor rule', () => {
  test('a heading gives its GitHub slug, an <a id> its id, and a repeated slug a -1 suffix', () => {
    const md = [
      '## §3.1 Canonical order <a id="canonical-order"></a>',
      '### What `validate` enforces',
      '## Notes',
      '## Notes',
      '```',
      '## not a heading',
      '```',
    ].join('\n');
    expect([...markdownAnchors(md)].sort()).toEqual([
      '31-canonical-order',
      'canonical-order',
      'notes',
      'notes-1',
      'what-validate-enforces',
    ]);
    expect(githubSlug('Two machines: a control box and a GPU box')).toBe('two-machines-a-control-box-and-a-gpu-box');
  });

  test('a citation takes the anchors that follow it in the same file, and nothing glued to a longer path', () => {
    expect(
      docCitations('see docs/protocol.md#layout, #decisions; not ../docs/x.md or mydocs/y.md').map((c) => [
        c.path,
        c.anchors,
      ]),
    ).toEqual([['docs/protocol.md', ['layout', 'decisions']]]);
  });
});

describe('the documentation the package ships', () => {
  /** What `npm pack` puts in the tarball: package.json's `files`, and the files npm always adds. */
  const pkg = JSON.parse(readRepoFile('package.json')) as { files: string[] };
  const shipped = (rel: string) =>
    /^(README|LICENSE|package\.json)/i.test(rel) ||
    pkg.files.some((entry) => (entry.endsWith('/') ? rel.startsWith(entry) : rel === entry));
  /** Linked from the shipped pages for readers of a clone, and useless without one. */
  const repositoryOnly = new Map([
    ['docker-compose.yml', 'builds the worker image from the source tree'],
    ['test/fixtures/protocol/README.md', "the validator's test cases, for contributors"],
  ]);

  test('links only to files the package ships, so an installed copy reads whole', () => {
    for (const rel of repositoryOnly.keys()) expect(existsSync(join(REPO, rel)), rel).toBe(true);
    const markdown = files.filter((f) => f.endsWith('.md') && shipped(f));
    expect(markdown).toEqual(expect.arrayContaining(['README.md', 'docs/README.md', 'skills/loop-station/SKILL.md']));
    const missing: string[] = [];
    for (const file of markdown)
      for (const { abs, rel, where } of relativeLinks(file)) {
        const isDir = existsSync(abs) && statSync(abs).isDirectory();
        if (!shipped(isDir ? `${rel}/` : rel) && !repositoryOnly.has(rel))
          missing.push(`${where}: ${rel} is not in the package`);
      }
    expect(missing).toEqual([]);
  });
});
