/**
 * An ES2+ operator's Operational Profiles as the hub records them (in the dialect's record store:
 * records.ts), and the download progress the SM-DP+ reports.
 */

/**
 * An Operational Profile the hub ordered for an ES2+ operator. `ordered`: the
 * SM-DP+ reserved the ICCID, not yet confirmed; `released`: confirmed and released, its activation
 * code handed out; then what the SM-DP+ and the CMP report. `deleted`, `swapped` and `cancelled`
 * profiles hold no slot of the subscription.
 */
export type ProfileState =
  | 'ordered'
  | 'released'
  | 'downloaded'
  | 'installed'
  | 'enabled'
  | 'disabled'
  | 'installationFailed'
  | 'deleted'
  | 'swapped'
  | 'cancelled';

/** one HandleDownloadProgressInfo, as the SM-DP+ sent it */
export interface ProgressPoint {
  readonly notificationPointId: number;
  readonly status: string;
  readonly at: string;
  /** the eUICC's finalResult (SGP.22 ProfileInstallationResult), base64, when the SM-DP+ sent it */
  readonly resultData?: string;
}

export interface EsimProfile {
  readonly msp: string;
  /** without the trailing filler F: the key, and what the CMP is told */
  readonly iccid: string;
  /** the ICCID exactly as the SM-DP+ wrote it (F-padded when it pads); every later ES2+ call sends
   * this string. Absent in records written before it was kept: `iccid` then */
  readonly smdpIccid?: string;
  readonly mspToken: string;
  readonly cmp: string;
  readonly eid: string;
  /** the AID.02 profile type the CMP asked for */
  readonly profileType: string;
  readonly activationCodeRequestId: string;
  readonly matchingId: string;
  readonly activationCode?: string;
  /** the profile this one replaced (AID.02 4.3.1), null when none */
  readonly swappedIccid: string | null;
  readonly state: ProfileState;
  readonly createdAt: number;
  /** last order, status or progress: the least recently used profile is swapped first */
  readonly usedAt: number;
  readonly progress: readonly ProgressPoint[];
}

