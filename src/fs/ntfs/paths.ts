// Paths as winrescue reports them: '/' separated from the volume root, case as stored on disk.

export function joinPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Components of a '/' or '\\' separated path, empty and '.' parts dropped. */
export function splitPath(path: string): string[] {
  return path.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
}
