import { describe, expect, test } from 'vitest';
import { hasContent, missingParts, parseHeaderLines, parseSections, sectionBody } from './markdown.js';

const REVIEW = `# Review

agent: CLAUDE
**Model**: claude-sonnet
- verdict: supported
Instruction Profile: reviewer
agent: ignored second

## Verdict
supported, with one caveat: single seed

\`\`\`
## not a heading inside a fence
\`\`\`

### Detail
stays in Verdict

## Risks Or Confounds
single seed
`;

describe('markdown reading', () => {
  test('header lines before the first ## are key: value, keys lower-cased, first wins', () => {
    expect(parseHeaderLines(REVIEW)).toEqual({
      agent: 'CLAUDE',
      model: 'claude-sonnet',
      verdict: 'supported',
      instruction_profile: 'reviewer',
    });
  });

  test('sections run to the next ## outside code fences', () => {
    expect(parseSections(REVIEW)).toEqual([
      {
        title: 'Verdict',
        body: 'supported, with one caveat: single seed\n\n```\n## not a heading inside a fence\n```\n\n### Detail\nstays in Verdict',
      },
      { title: 'Risks Or Confounds', body: 'single seed' },
    ]);
    expect(sectionBody(REVIEW, 'risks or confounds')).toBe('single seed');
    expect(sectionBody(REVIEW, 'Missing')).toBe(undefined);
  });

  test('missingParts names absent headers and sections', () => {
    expect(missingParts(REVIEW, { headers: ['agent', 'session'], sections: ['Verdict', 'Evidence Checked'] })).toEqual([
      'header session',
      'section ## Evidence Checked',
    ]);
  });

  test('a file counts as written only with a non-whitespace character', () => {
    expect([hasContent(' \n\t'), hasContent(' x ')]).toEqual([false, true]);
  });
});
