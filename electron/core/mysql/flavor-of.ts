import { queryRows, type Session } from './connection.js';
import { parseFlavor, type ServerFlavor } from './flavor.js';

/** The server's product and version, from one cheap statement. */
export async function readFlavor(session: Session): Promise<ServerFlavor> {
  const [row] = await queryRows(session, 'SELECT @@version AS version, @@version_comment AS comment');
  return parseFlavor(String(row?.version ?? ''), String(row?.comment ?? ''));
}
