import type { Connection } from 'mysql2/promise';
import { connectAsRoot } from './replica-pair.js';
import type { ThrowawayServer } from '../../core/sandbox/throwaway-server.js';

/** A small shop: InnoDB with a secondary index, and one MyISAM table, like real schemas have. */
export async function createSampleSchema(source: ThrowawayServer, rows = 2000): Promise<void> {
  const c = await connectAsRoot(source);
  try {
    await c.query(`CREATE DATABASE IF NOT EXISTS shop;
      CREATE TABLE IF NOT EXISTS shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, customer VARCHAR(40), amount DECIMAL(10,2), note TEXT, KEY (customer)) ENGINE=InnoDB;
      CREATE TABLE IF NOT EXISTS shop.audit (id INT AUTO_INCREMENT PRIMARY KEY, msg VARCHAR(200)) ENGINE=MyISAM;`);
    await insertSampleRows(c, rows);
  } finally {
    await c.end();
  }
}

/** `randomBytes` > 0 makes each note incompressible (base64 of that many random bytes). */
export async function insertSampleRows(c: Connection, rows: number, randomBytes = 0): Promise<void> {
  for (let done = 0; done < rows; done += 500) {
    const batch = Math.min(500, rows - done);
    const values = Array.from({ length: batch }, (_, i) => {
      const n = done + i;
      const note = randomBytes ? `TO_BASE64(RANDOM_BYTES(${Math.min(randomBytes, 1024)}))` : `REPEAT('n', ${n % 50})`;
      return `('c${n % 97}', ${n % 1000}.25, ${note})`;
    });
    await c.query(`INSERT INTO shop.orders (customer, amount, note) VALUES ${values.join(',')}`);
    await c.query(`INSERT INTO shop.audit (msg) VALUES ('batch ${done}')`);
  }
}
