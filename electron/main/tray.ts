import { Menu, Tray, nativeImage } from 'electron';
import path from 'node:path';
import type { DashboardEntry, JobView } from '../shared/ipc-contract.js';
import type { RunRecord } from '../shared/history.js';
import { trayMenu, trayStatus, trayTooltip } from '../desktop/tray-model.js';

/** Renders the tray model (desktop/tray-model.ts); decides nothing itself. */
export class QuiesceTray {
  private readonly tray: Tray;

  constructor(
    private readonly assetsDir: string,
    private readonly onItem: (id: string) => void,
  ) {
    this.tray = new Tray(this.icon('idle'));
    this.tray.on('click', () => onItem('open'));
  }

  private icon(status: string) {
    return nativeImage.createFromPath(path.join(this.assetsDir, `tray-${status}.png`));
  }

  update(profiles: { name: string }[], jobs: JobView[], runs: RunRecord[], entries: DashboardEntry[]): void {
    this.tray.setImage(this.icon(trayStatus(jobs, runs)));
    this.tray.setToolTip(trayTooltip(jobs, runs, entries));
    this.tray.setContextMenu(
      Menu.buildFromTemplate(
        trayMenu(profiles, jobs).map((item) => (item.kind === 'separator' ? { type: 'separator' as const } : { label: item.label, enabled: item.enabled, click: () => this.onItem(item.id) })),
      ),
    );
  }
}
