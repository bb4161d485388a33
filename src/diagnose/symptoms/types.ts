// What a symptom reader extracts from a boot screen or a serial log.
// Screen texts and layouts: ../shared/docs/REFERENCE.md §3 (A: Windows Boot Manager, B: Recovery).

export type SymptomKind = 'boot-manager' | 'recovery' | 'serial' | 'unknown';

export interface Symptom {
  readonly kind: SymptomKind;
  /** NTSTATUS as an unsigned 32-bit number, after OCR-noise correction. */
  readonly stopCode: number | null;
  /** The code as it appeared in the text (before correction), for evidence. */
  readonly stopCodeText: string | null;
  /** `\Windows\System32\drivers\x.sys`, backslashes, corrected for OCR noise (and snapped when a disk was given). */
  readonly path: string | null;
  /** The Info line or the Recovery screen's explanation, when present. */
  readonly info: string | null;
  readonly rawText: string;
  /** 0..1: how much to trust stopCode and path (1: read cleanly with no correction). */
  readonly confidence: number;
}
