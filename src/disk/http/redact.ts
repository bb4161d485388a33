// Keeping SAS tokens out of everything a user or a log sees. A Shared Access Signature is a bearer credential:
// whoever reads `sig=` can read (or write) the disk until it expires. So every URL that reaches a description,
// an error message, a `path` field or a log passes through here first.

/** Marks where a query string was dropped, so a reader knows the URL carried one. */
const QUERY_MARK = '?[SAS redacted]';

/** Query parameters whose values are secrets wherever they appear in text (Azure SAS `sig`, some signed-URL schemes). */
const SECRET_PARAMS = ['sig', 'signature', 'x-amz-signature', 'token', 'key'];

/** A secret parameter wherever it starts: after ? or &, or loose in text (a URL cut at a space, a quoted query). */
const SECRET_IN_TEXT = new RegExp(`((?:^|[?&\\s"'(,;])(?:${SECRET_PARAMS.join('|')})=)[^&\\s"'<>]+`, 'gi');

/** True for the strings openDisk hands to the HTTP backend. */
export function isHttpUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

/**
 * The URL without its query (where a SAS lives) and without user info: scheme, host, port, path.
 * Text that does not parse as a URL is scrubbed with `redactText` instead, never returned as is.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactText(url);
  }
  const mark = u.search.length > 1 ? QUERY_MARK : '';
  return `${u.protocol}//${u.host}${u.pathname}${mark}`;
}

/** Any text with every secret query value replaced: for messages that may quote a URL (server errors, causes). */
export function redactText(text: string): string {
  return text.replace(SECRET_IN_TEXT, '$1[redacted]');
}

/** The query parameter `name` of a SAS URL, or null. */
export function sasParam(url: string, name: string): string | null {
  try {
    return new URL(url).searchParams.get(name);
  } catch {
    return null;
  }
}
