import { describe, expect, it } from 'vitest';
import { parseOptionFileLogin } from '../../electron/core/mysql/option-file-login.js';

describe('the [client] login of a MySQL option file', () => {
  it('reads user and password from the client groups only; a later line wins', () => {
    const text = ['[mysqld]', 'user=mysql', '[client]', 'user=dba', 'password=first', '[client-mariadb]', 'password = second # a comment', '[mysqldump]', 'password=not-this'].join('\n');
    expect(parseOptionFileLogin(text)).toEqual({ user: 'dba', password: 'second' });
  });

  it('quoted values keep #, spaces and escapes as the client reads them', () => {
    expect(parseOptionFileLogin('[client]\npassword="a #b\\tc\\\\d"\n').password).toBe('a #b\tc\\d');
    expect(parseOptionFileLogin("[client]\npassword='x y' # note\n").password).toBe('x y');
  });

  it('comments, !include lines, case and CRLF are handled; no client group means no login', () => {
    expect(parseOptionFileLogin('[CLIENT]\r\n; old\r\n!includedir /etc/mysql/conf.d/\r\nUSER=dba\r\n')).toEqual({ user: 'dba', password: null });
    expect(parseOptionFileLogin('[mysql]\nuser=x\npassword=y\n')).toEqual({ user: null, password: null });
  });
});
