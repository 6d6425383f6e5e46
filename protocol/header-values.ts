import { readClass } from './decision.js';
import { parseHeaderLines, parseSections, sectionBody } from './markdown.js';
import { axisKey, stripValue } from './decision-loose.js';
import { type DecisionClass, VERDICTS, type Verdict } from './vocabulary.js';

/**
 * Header values as agents write them (`verdict: **Unsupported** (gain within noise)`, `status:
 * Blocked — eval.py crashed`, `axis: Learning Rate`): the word they mean, read the way the agent
 * supervisor's decision is read (protocol/decision.ts), so that a reviewer's veto or an executor's
 * ABSTAIN is not lost to a full stop, bold, an emoji or an explanation after it. The original
 * skill's reviews have no verdict header: their `## Verdict` and `## Promote / Keep / Retire`
 * sections (`- unsupported: yes`, or prose) are read by readVerdictSection and readRecommendationSection.
 */

/** The value's words, lower-cased, without the Markdown, quotes and punctuation around them (any script). */
const words = (text: string): string[] =>
  stripValue(text)
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter(Boolean);

/** Words reviewers use for a verdict beyond the three of the vocabulary. */
const VERDICT_WORDS: Readonly<Record<string, Verdict>> = {
  ...Object.fromEntries(VERDICTS.map((v) => [v, v])),
  not_supported: 'unsupported',
  rejected: 'unsupported',
  refuted: 'unsupported',
  disproved: 'unsupported',
  disproven: 'unsupported',
  confirmed: 'supported',
  inconclusive: 'uncertain',
  unclear: 'uncertain',
};

/** The verdict a word (with the next one, for `not supported`) names, or undefined. */
function verdictAt(list: readonly string[], i: number): Verdict | undefined {
  if (list[i] === 'not' && (list[i + 1] === 'supported' || list[i + 1] === 'support')) return 'unsupported';
  return VERDICT_WORDS[list[i]!];
}

/** `supported`, `unsupported` or `uncertain` from `Unsupported.`, `not supported`, `Rejected — leakage`; else undefined. */
export const readVerdict = (text: string): Verdict | undefined => verdictAt(words(text), 0);

/** A template answer that says yes: `yes`, `yes — the gain is a leak`, `[x]`, `✅`, `true`. */
const saysYes = (text: string): boolean =>
  /^(?:yes|y|true|x|checked)$/.test(words(text)[0] ?? '') || /^[✅✓✔]/u.test(stripValue(text));

// `- unsupported: yes — why`, `- **retire**: yes`, `- [x] retire`.
const ANSWER_LINE = /^\s*(?:[-*+]|\d+[.)])\s*(?:\[([ xX✓])\]\s*)?[*_`]*([^:*_`]+?)[*_`]*\s*(?::\s*(.*))?$/u;

/**
 * The one a template's `- X: yes|no` list (or checklist) answers yes, of those `read` knows; null
 * when the list is there but says yes to none, undefined when there is no such list.
 */
function answered<T>(body: string, read: (text: string) => T | undefined): T | null | undefined {
  let listed = false;
  for (const line of body.split(/\r?\n/)) {
    const m = ANSWER_LINE.exec(line);
    const value = m ? read(m[2]!) : undefined;
    if (value === undefined || !m) continue;
    // Only the item's name: `- unsupported: yes` and `- [x] unsupported`, not `- retire the axis`.
    if (m[1] === undefined && m[3] === undefined) continue;
    listed = true;
    if (m[1] !== undefined ? m[1].trim() !== '' : saysYes(m[3]!)) return value;
  }
  return listed ? null : undefined;
}

/**
 * The verdict of a `## Verdict` section: the template's item answered yes (`- unsupported: yes`),
 * else the first verdict word of its text (`**UNSUPPORTED** — within noise`); undefined for neither.
 */
export function readVerdictSection(body: string): Verdict | undefined {
  const item = answered(body, (name) => (words(name).length <= 2 ? readVerdict(name) : undefined));
  if (item !== undefined) return item ?? undefined;
  const list = words(body);
  for (let i = 0; i < list.length; i++) {
    const verdict = verdictAt(list, i);
    if (verdict) return verdict;
  }
  return undefined;
}

// A class as prose names it; the first one not negated (`do not promote`) is the recommendation.
const CLASS_PHRASES: readonly [RegExp, DecisionClass][] = [
  [
    /\b(?:return(?:ing)?|revert(?:ing)?|go(?:ing)? back|roll(?:ing)? back)[\s_-]+to[\s_-]+(?:the[\s_-]+)?best\b/g,
    'return_to_best',
  ],
  [/\bneeds?[\s_-]+more[\s_-]+evidence\b/g, 'needs_more_evidence'],
  [/\bneeds?[\s_-]+(?:a[\s_-]+)?code[\s_-]+variant\b/g, 'needs_code_variant'],
  [/\bpivot(?:_axis)?\b/g, 'pivot_axis'],
  [/\bretire\b/g, 'retire'],
  [/\bpromote\b/g, 'promote'],
  [/\bkeep\b/g, 'keep'],
  [/\bstop\b/g, 'stop'],
];
const NEGATED = /\b(?:not|don'?t|never|no|against|shouldn'?t|won'?t|cannot|can'?t)\s+(?:\w+\s+)?$/;

/**
 * A decision class recommended by a review (`Retire.`, `promote (strong)`, `Return to best`, `I
 * recommend we retire this approach`, `Do not promote; revert to the best`); else undefined. A
 * bare `do not promote` reads as return_to_best: the candidate is not taken, the best stays.
 */
export function readRecommendation(text: string): DecisionClass | undefined {
  const exact = readClass(text)?.value;
  if (exact) return exact;
  const prose = stripValue(text).toLowerCase().replace(/[’`]/g, "'");
  let first: { at: number; value: DecisionClass } | undefined;
  let refused = false;
  for (const [re, value] of CLASS_PHRASES) {
    for (const m of prose.matchAll(re)) {
      if (NEGATED.test(prose.slice(Math.max(0, m.index - 24), m.index))) {
        refused ||= value === 'promote';
        continue;
      }
      if (!first || m.index < first.at) first = { at: m.index, value };
      break;
    }
  }
  return first?.value ?? (refused ? 'return_to_best' : undefined);
}

/** The recommendation of a `## Promote / Keep / Retire` section: the item answered yes, else its text's. */
export function readRecommendationSection(body: string): DecisionClass | undefined {
  const item = answered(body, (name) => (words(name).length <= 3 ? readClass(name)?.value : undefined));
  return item !== undefined ? (item ?? undefined) : readRecommendation(body);
}

export { readStatus } from './status-word.js';

/**
 * A review's verdict and recommendation: the header's (`verdict: unsupported`), else the original
 * template's `## Verdict` and `## Promote / Keep / Retire` sections. What was not read is listed:
 * a verdict found nowhere (the engine then takes it as `uncertain`, and does not take it for a
 * non-objection), a recommendation written and not read (none at all is allowed).
 */
export function readReviewJudgment(text: string): {
  verdict: Verdict | undefined;
  recommendation: DecisionClass | undefined;
  unreadable: ('verdict' | 'recommendation')[];
} {
  const header = parseHeaderLines(text);
  const sections = parseSections(text);
  const verdict = readVerdict(header.verdict ?? '') ?? readVerdictSection(sectionBody(sections, 'Verdict') ?? '');
  const written = [header.recommendation, sectionBody(sections, 'Promote/Keep/Retire')];
  const recommendation =
    readRecommendation(header.recommendation ?? '') ??
    readRecommendationSection(sectionBody(sections, 'Promote/Keep/Retire') ?? '');
  return {
    verdict,
    recommendation,
    unreadable: [
      ...(verdict ? [] : ['verdict' as const]),
      ...(recommendation || !written.some((t) => t?.trim()) ? [] : ['recommendation' as const]),
    ],
  };
}

/** An axis name as the engine keys it (`Learning Rate` → `learning-rate`): one reading for reports and decisions. */
export const readAxis = axisKey;
