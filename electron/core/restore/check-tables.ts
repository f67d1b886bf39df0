import type mysql from 'mysql2/promise';

/** CHECK TABLE on every base table a server holds (what a restore test proves); `interrupted` throws when cancelled. */
export async function checkAllTables(session: mysql.Connection, interrupted: () => void): Promise<{ checked: number; failures: { table: string; message: string }[] }> {
  const [tables] = await session.query<mysql.RowDataPacket[]>(
    "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'sys')",
  );
  const failures: { table: string; message: string }[] = [];
  for (const { db, t } of tables) {
    interrupted();
    const name = `\`${String(db).replace(/`/g, '``')}\`.\`${String(t).replace(/`/g, '``')}\``;
    const [rows] = await session.query<mysql.RowDataPacket[]>(`CHECK TABLE ${name}`);
    for (const r of rows) {
      if (r.Msg_type === 'error' || (r.Msg_type === 'status' && !/^(OK|Table is already up to date)$/i.test(String(r.Msg_text)))) {
        failures.push({ table: `${db}.${t}`, message: String(r.Msg_text) });
      }
    }
  }
  return { checked: tables.length, failures };
}
