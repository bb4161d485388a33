// Bytes fetched over HTTP by every remote disk this process opened: what `azure diagnose` reports as the cost of a
// diagnosis (bytes read as a fraction of the disk), without threading a counter through every API call.

export interface TransferTotals {
  bytes: number;
  requests: number;
}

const totals = new Map<string, TransferTotals>();

/** Keyed by the redacted URL, never the SAS. */
export function recordTransfer(redactedUrl: string, bytes: number, requests: number): void {
  const t = totals.get(redactedUrl) ?? { bytes: 0, requests: 0 };
  t.bytes += bytes;
  t.requests += requests;
  totals.set(redactedUrl, t);
}

/** Totals for one disk (by its redacted URL), or for all of them. */
export function transferTotals(redactedUrl?: string): TransferTotals {
  if (redactedUrl !== undefined) return { ...(totals.get(redactedUrl) ?? { bytes: 0, requests: 0 }) };
  let bytes = 0;
  let requests = 0;
  for (const t of totals.values()) {
    bytes += t.bytes;
    requests += t.requests;
  }
  return { bytes, requests };
}
