// Which files of a directory are a hive's transaction logs.
// Spec: msuhanov regf spec, "Types of files" (examples) and "Multiple transaction log files".
const LOG_SUFFIXES = ['.log1', '.log2', '.log'] as const;

/** Last path component, for names given as `dir/NAME` or `dir\NAME`. */
const leaf = (p: string): string => p.slice(Math.max(p.lastIndexOf('/'), p.lastIndexOf('\\')) + 1);

/**
 * The entries of `names` that are logs of `hiveName` (`NAME.LOG1`, `NAME.LOG2`, `NAME.LOG`, compared without
 * case as NTFS does), returned as given, in the order recovery considers them: LOG1, LOG2, then LOG.
 */
export function findLogSiblings(names: readonly string[], hiveName: string): string[] {
  const hive = leaf(hiveName).toLowerCase();
  const found: { name: string; rank: number }[] = [];
  for (const name of names) {
    const lower = leaf(name).toLowerCase();
    const rank = LOG_SUFFIXES.findIndex((s) => lower === hive + s);
    if (rank >= 0) found.push({ name, rank });
  }
  return found.sort((a, b) => a.rank - b.rank).map((f) => f.name);
}
