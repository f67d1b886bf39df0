import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The project's own lint configuration, judging text as if it were the named file. */
async function problems(file: string, code: string, rules = ['local/layering']): Promise<string[]> {
  const [result] = await new ESLint().lintText(code, { filePath: file });
  return result!.messages.filter((m) => rules.includes(m.ruleId ?? '')).map((m) => m.message);
}

describe('the layering rule judges the file an import resolves to', () => {
  it('refuses a crossing however the path is spelled', async () => {
    for (const spec of ['../worker/worker.js', './../worker/worker.js', '../desktop/../worker/worker.js']) {
      expect(await problems('electron/main/wiring.ts', `import { w } from '${spec}';\nexport const x = w;\n`)).toEqual([expect.stringMatching(/main may not import worker/)]);
    }
    expect(await problems('electron/main/wiring.ts', "import { d } from '../desktop/../desktop/desktop-services.js';\nexport const x = d;\n")).toEqual([]);
  });

  it('keeps the engine in layers: a lower folder never imports a higher one, so no folder loops', async () => {
    expect(await problems('electron/core/archive/x.ts', "import { r } from '../restore/restore.js';\nexport const x = r;\n")).toEqual([expect.stringMatching(/core\/archive may not import core\/restore/)]);
    expect(await problems('electron/core/restore/x.ts', "import { a } from '../archive/read-archive.js';\nexport const x = a;\n")).toEqual([]);
    expect(await problems('electron/core/storage/x.ts', "import { m } from '../mysql/connection.js';\nexport const x = m;\n")).toEqual([expect.stringMatching(/only lower layers/)]);
  });

  it("keeps 'electron' in main and preload, and packages out of shared", async () => {
    expect(await problems('electron/desktop/x.ts', "import e from 'electron';\nexport const x = e;\n")).toEqual([expect.stringMatching(/only electron\/main and electron\/preload/)]);
    expect(await problems('electron/main/x.ts', "import e from 'electron';\nexport const x = e;\n")).toEqual([]);
    expect(await problems('electron/shared/x.ts', "import fs from 'node:fs';\nexport const x = fs;\n")).toEqual([expect.stringMatching(/imports nothing/)]);
    expect(await problems('test/unit/x.ts', "import { w } from '../../electron/worker/worker.js';\nexport const x = w;\n")).toEqual([]);
  });

  it('keeps raw IPC in its two doors: main/ipc.ts and the preload', async () => {
    const ipc = ['no-restricted-imports', 'no-restricted-syntax'];
    const raw = "import { ipcMain } from 'electron';\nexport const x = (w: { webContents: { send(c: string): void } }) => { w.webContents.send('job:state'); return ipcMain; };\n";
    expect(await problems('electron/main/main.ts', raw, ipc)).toEqual([expect.stringMatching(/main\/ipc\.ts/), expect.stringMatching(/sendTo\(\)/)]);
    expect(await problems('electron/main/ipc.ts', raw, ipc)).toEqual([]);
    expect(await problems('electron/preload/preload.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n", ipc)).toEqual([]);
    expect(await problems('electron/main/tray.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n", ipc)).toEqual([expect.stringMatching(/preload/)]);
  });
});
