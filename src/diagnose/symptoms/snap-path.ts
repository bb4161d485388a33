// Snap an OCR'd path to the closest path that exists on the disk.
// Weighted edit distance (Wagner–Fischer) in which OCR look-alikes cost little; NTFS names compare case-insensitively.

/** Characters OCR confuses with one another; a substitution inside a group is cheap. */
const CONFUSION_GROUPS: readonly string[] = ['il1|!', 'o0q', 's5', 'b8', 'z2', 'g9', 'mn', 'uv', 'ce', '\\/'];
const CONFUSION_COST = 0.25;
const EDIT_COST = 1;
/** Accept a match at most this far away, relative to the file name's length (directory names are long and
 * repetitive, so measuring against the whole path would let one driver name snap onto another). */
const MAX_RELATIVE_DISTANCE = 0.3;
/** …but always allow this much, so short names survive one slip. */
const MIN_ALLOWED_DISTANCE = 1;

/** Small enough never to outweigh a real edit (paths are far shorter than 1 / CASE_TIEBREAK). */
const CASE_TIEBREAK = 0.001;

function caseMismatches(a: string, b: string): number {
  if (a.length !== b.length) return 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

const GROUP_OF = new Map<string, number>();
CONFUSION_GROUPS.forEach((g, i) => {
  for (const c of g) GROUP_OF.set(c, i);
});

function substitutionCost(a: string, b: string): number {
  if (a === b) return 0;
  const ga = GROUP_OF.get(a);
  return ga !== undefined && ga === GROUP_OF.get(b) ? CONFUSION_COST : EDIT_COST;
}

/** Weighted distance between two case-folded strings; gives up (returns Infinity) once it must exceed `limit`. */
export function ocrDistance(a: string, b: string, limit = Infinity): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (Math.abs(x.length - y.length) * EDIT_COST > limit) return Infinity;
  let prev = new Float64Array(y.length + 1);
  let cur = new Float64Array(y.length + 1);
  for (let j = 0; j <= y.length; j++) prev[j] = j * EDIT_COST;
  for (let i = 1; i <= x.length; i++) {
    cur[0] = i * EDIT_COST;
    let rowMin = cur[0];
    const xc = x[i - 1] as string;
    for (let j = 1; j <= y.length; j++) {
      const v = Math.min(
        (prev[j] as number) + EDIT_COST,
        (cur[j - 1] as number) + EDIT_COST,
        (prev[j - 1] as number) + substitutionCost(xc, y[j - 1] as string),
      );
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return Infinity;
    [prev, cur] = [cur, prev];
  }
  return prev[y.length] as number;
}

export interface SnappedPath {
  readonly path: string;
  readonly distance: number;
}

/**
 * The candidate closest to `ocrPath`, or null when none is close enough to be the same file.
 * Candidates are paths as they exist on the disk (`\Windows\System32\drivers\disk.sys`); `/` is accepted too.
 */
export function snapPathDetailed(ocrPath: string, candidates: Iterable<string>): SnappedPath | null {
  const want = ocrPath.replace(/\//g, '\\');
  const name = want.slice(want.lastIndexOf('\\') + 1);
  const allowed = Math.max(MIN_ALLOWED_DISTANCE, name.length * MAX_RELATIVE_DISTANCE);
  let best: SnappedPath | null = null;
  for (const candidate of candidates) {
    const c = candidate.replace(/\//g, '\\');
    const limit: number = best ? Math.min(best.distance, allowed) : allowed;
    const full = c.startsWith('\\') ? c : '\\' + c;
    // NTFS compares names case-insensitively; among equal matches the one spelt in the OCR'd case wins.
    const d: number = ocrDistance(want, full, limit) + caseMismatches(want, full) * CASE_TIEBREAK;
    if (d <= limit && (best === null || d < best.distance)) {
      best = { path: full, distance: d };
      if (d === 0) break;
    }
  }
  return best;
}

export function snapPath(ocrPath: string, candidates: Iterable<string>): string | null {
  return snapPathDetailed(ocrPath, candidates)?.path ?? null;
}
