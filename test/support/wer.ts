/**
 * Word error rate with the errors placed on the timeline, so a comparison can tell errors at the
 * chunk cuts from errors elsewhere, and repeated word runs at the cuts (what a stitcher that keeps
 * both copies of the overlap would leave).
 */

export interface TimedWord {
  text: string;
  start: number;
  end: number;
  /** The chunk whose answer the word was kept from (stitched transcripts). */
  chunk?: number;
}

export interface WerReport {
  referenceWords: number;
  hypothesisWords: number;
  substitutions: number;
  deletions: number;
  insertions: number;
  /** (S + D + I) / N, in percent. */
  wer: number;
  /** Errors placed at a time (the hypothesis word's, or for a deletion the hypothesis word before it). */
  errorTimes: number[];
}

/** Lower case, hyphens as spaces, no punctuation but apostrophes inside words. */
export function normalizeText(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[-–—]/g, " ")
    .replace(/[^\p{L}\p{N}'\s]+/gu, "")
    .split(/\s+/)
    .map((w) => w.replace(/^'+|'+$/g, ""))
    .filter(Boolean);
}

/** Normalises timed words the way `normalizeText` does text (a word may split into several). */
export function normalizeTimed(words: TimedWord[]): TimedWord[] {
  return words.flatMap((w) => normalizeText(w.text).map((text) => ({ ...w, text })));
}

/** Levenshtein alignment of reference words to timed hypothesis words. */
export function wordErrors(reference: string[], hypothesis: TimedWord[]): WerReport {
  const n = reference.length;
  const m = hypothesis.length;
  // Costs in one typed array (n+1)×(m+1); the backtrace re-derives each step from them.
  const cost = new Uint32Array((n + 1) * (m + 1));
  const at = (i: number, j: number) => i * (m + 1) + j;
  for (let i = 0; i <= n; i++) cost[at(i, 0)] = i;
  for (let j = 0; j <= m; j++) cost[at(0, j)] = j;
  for (let i = 1; i <= n; i++)
    for (let j = 1; j <= m; j++) {
      const same = reference[i - 1] === hypothesis[j - 1].text ? 0 : 1;
      cost[at(i, j)] = Math.min(cost[at(i - 1, j - 1)] + same, cost[at(i - 1, j)] + 1, cost[at(i, j - 1)] + 1);
    }
  let substitutions = 0;
  let deletions = 0;
  let insertions = 0;
  const errorTimes: number[] = [];
  let i = n;
  let j = m;
  const timeBefore = (k: number) => (k > 0 ? hypothesis[k - 1].end : 0);
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && cost[at(i, j)] === cost[at(i - 1, j - 1)] + (reference[i - 1] === hypothesis[j - 1].text ? 0 : 1)) {
      if (reference[i - 1] !== hypothesis[j - 1].text) {
        substitutions++;
        errorTimes.push(hypothesis[j - 1].start);
      }
      i--;
      j--;
    } else if (i > 0 && cost[at(i, j)] === cost[at(i - 1, j)] + 1) {
      deletions++;
      errorTimes.push(timeBefore(j));
      i--;
    } else {
      insertions++;
      errorTimes.push(hypothesis[j - 1].start);
      j--;
    }
  }
  return {
    referenceWords: n,
    hypothesisWords: m,
    substitutions,
    deletions,
    insertions,
    wer: n ? (100 * (substitutions + deletions + insertions)) / n : 0,
    errorTimes: errorTimes.reverse(),
  };
}

const near = (t: number, cuts: number[], radius: number) => cuts.some((c) => Math.abs(t - c) <= radius);

/** Errors within `radius` seconds of a cut, and elsewhere. */
export function errorsNearCuts(report: WerReport, cuts: number[], radius = 3): { nearCuts: number; elsewhere: number } {
  const nearCuts = report.errorTimes.filter((t) => near(t, cuts, radius)).length;
  return { nearCuts, elsewhere: report.errorTimes.length - nearCuts };
}

/**
 * Word runs (1 to `longest` words) said twice in a row with their first copy within `radius`
 * seconds of a cut, the two copies kept from different chunks: "printed book printed book". A
 * stitcher that keeps both chunks' copies of the overlap leaves exactly this; a recognizer that
 * itself heard "and and" inside one chunk does not count.
 */
export function repeatsNearCuts(words: TimedWord[], cuts: number[], radius = 3, longest = 4): number {
  let count = 0;
  for (let i = 0; i < words.length; i++) {
    if (!near(words[i].start, cuts, radius)) continue;
    for (let n = 1; n <= longest && i + 2 * n <= words.length; n++) {
      let same = true;
      for (let k = 0; k < n && same; k++) same = words[i + k].text === words[i + n + k].text;
      if (same && words[i].chunk !== words[i + n].chunk) {
        count++;
        break;
      }
    }
  }
  return count;
}
