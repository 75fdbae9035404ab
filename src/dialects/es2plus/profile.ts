/**
 * An ES2+ operator's Operational Profile as the hub records it: the shared record (hostedMsp/profile.ts)
 * with what the SM-DP+ needs to name it again, and the download progress the SM-DP+ reports.
 */
import type { OperatorProfile } from '../../hostedMsp/profile';

/** one HandleDownloadProgressInfo, as the SM-DP+ sent it */
export interface ProgressPoint {
  readonly notificationPointId: number;
  readonly status: string;
  readonly at: string;
  /** the eUICC's finalResult (SGP.22 ProfileInstallationResult), base64, when the SM-DP+ sent it */
  readonly resultData?: string;
}

export interface EsimProfile extends OperatorProfile {
  /** the ICCID exactly as the SM-DP+ wrote it (F-padded when it pads); every later ES2+ call sends
   * this string. Absent in records written before it was kept: `iccid` then */
  readonly smdpIccid?: string;
  readonly matchingId: string;
  readonly progress: readonly ProgressPoint[];
}
