import { describe, expect, it } from 'vitest';
import { missingNeeds, parseGrants, privilegesNeeded } from '../../electron/core/mysql/privileges.js';
import { parseFlavor } from '../../electron/core/mysql/flavor.js';

const mariadb = parseFlavor('10.11.14-MariaDB-0+deb12u2');
const mysql8 = parseFlavor('8.0.36');
const mysql57 = parseFlavor('5.7.44-log');

describe('which privileges a backup lacks, from SHOW GRANTS as the servers print it', () => {
  it('MariaDB: SELECT, RELOAD, PROCESS only cannot stop replication nor shut down', () => {
    const grants = parseGrants(["GRANT SELECT, RELOAD, PROCESS ON *.* TO `weak`@`localhost` IDENTIFIED BY PASSWORD '*ABC'"]);
    expect(missingNeeds(grants, privilegesNeeded(mariadb, 'cold')).map((n) => n.anyOf[0])).toEqual(['REPLICATION SLAVE ADMIN']);
    expect(missingNeeds(grants, privilegesNeeded(mariadb, 'readonly')).map((n) => n.anyOf[0])).toEqual(['READ ONLY ADMIN', 'SHOW VIEW', 'TRIGGER', 'EVENT']);
  });

  it('ALL PRIVILEGES covers everything; database-level grants count for nothing global', () => {
    expect(missingNeeds(parseGrants(['GRANT ALL PRIVILEGES ON *.* TO `q`@`%` WITH GRANT OPTION']), privilegesNeeded(mariadb, 'dump'))).toEqual([]);
    expect(missingNeeds(parseGrants(['GRANT ALL PRIVILEGES ON `shop`.* TO `q`@`%`']), privilegesNeeded(mariadb, 'cold'))).toHaveLength(1);
  });

  it('MySQL 8 dynamic privileges (underscores, no spaces after commas) and roles', () => {
    const grants = parseGrants(['GRANT SELECT, RELOAD, SHUTDOWN ON *.* TO `b`@`localhost`', 'GRANT REPLICATION_SLAVE_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `b`@`localhost`', 'GRANT `backup_role`@`%` TO `b`@`localhost`']);
    expect(grants.hasRoles).toBe(true);
    expect(missingNeeds(grants, privilegesNeeded(mysql8, 'cold'))).toEqual([]);
    expect(missingNeeds(grants, privilegesNeeded(mysql8, 'readonly')).map((n) => n.anyOf[0])).toEqual(['SHOW VIEW', 'TRIGGER', 'EVENT']);
  });

  it('MySQL 5.7: SUPER is what stops replication and sets read_only', () => {
    const grants = parseGrants(["GRANT SUPER, RELOAD, SELECT, SHOW VIEW, TRIGGER, EVENT ON *.* TO 'b'@'localhost'"]);
    expect(missingNeeds(grants, privilegesNeeded(mysql57, 'readonly'))).toEqual([]);
    expect(missingNeeds(grants, privilegesNeeded(mariadb, 'readonly')).map((n) => n.anyOf[0])).toEqual(['READ ONLY ADMIN']); // MariaDB 10.11 split it from SUPER
  });
});
