/** What a CMP reports of a profile on its vehicle: Send CSIM Status (AID.02 7.8). */
export type CsimStatus = 'deleted' | 'enabled' | 'disabled' | 'installed' | 'installation_failed';
