/** A file, folder or link on disk as a backup found it: what the archive writer streams and the staging copies. */
export interface InventoryEntry {
  component: string;
  /** path inside the component, '/'-separated */
  relPath: string;
  absPath: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  mode: number;
  mtimeMs: number;
  linkTarget?: string;
}
