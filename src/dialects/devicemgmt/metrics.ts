/**
 * The device-management dialect's own metrics, on the hub's registry, made once per registry. The
 * transactions in flight are read from the record store at scrape, from every fleet of the
 * registry's hub (`inFlight` sources come and go with the config).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS, perRegistry } from '../../metrics/metrics';

export type DevicemgmtMetrics = ReturnType<typeof create>;

export const devicemgmtMetrics: (registry: Registry) => DevicemgmtMetrics = perRegistry(create);

/** transactions take minutes (seed: 3-10) */
const TRANSACTION_BUCKETS = [5, 15, 30, 60, 120, 180, 300, 450, 600, 900, 1800, 3600];

function create(registers: Registry[]) {
  const inFlight = new Map<string, () => Promise<Record<string, number>>>();
  return {
    inFlight,
    calls: new Counter({
      name: 'aid_gateway_devicemgmt_calls_total',
      help: "Calls to a CMP's device-management platform by function and outcome: ok, the HTTP status, or why there was no answer",
      labelNames: ['cmp', 'function', 'outcome'] as const,
      registers,
    }),
    callDuration: new Histogram({
      name: 'aid_gateway_devicemgmt_call_duration_seconds',
      help: "Time a CMP's device-management platform took to answer",
      labelNames: ['cmp', 'function'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    transactions: new Counter({
      name: 'aid_gateway_devicemgmt_transactions_total',
      help: 'eSIM actions on vehicles by action (download, enable, disable, delete, activate) and outcome: started, complete, failed, gave_up',
      labelNames: ['cmp', 'action', 'outcome'] as const,
      registers,
    }),
    transactionDuration: new Histogram({
      name: 'aid_gateway_devicemgmt_transaction_seconds',
      help: 'Time from starting an eSIM action on a vehicle to its end, by action and outcome',
      labelNames: ['cmp', 'action', 'outcome'] as const,
      buckets: TRANSACTION_BUCKETS,
      registers,
    }),
    tasksInFlight: new Gauge({
      name: 'aid_gateway_devicemgmt_tasks_in_flight',
      help: 'Vehicle tasks (provisioning, removal) not finished, per CMP, read from the state store at scrape',
      labelNames: ['cmp'] as const,
      // with --workers: read from the shared store, every worker reports the same figure
      aggregator: 'first',
      registers,
      async collect() {
        this.reset();
        for (const read of inFlight.values()) {
          for (const [cmp, count] of Object.entries(await read().catch(() => ({})))) this.set({ cmp }, count);
        }
      },
    }),
    platformAvailable: new Gauge({
      name: 'aid_gateway_devicemgmt_platform_available',
      help: "Whether a CMP's device-management platform answered its last call (1) or failed to (0: no answer, 5xx)",
      labelNames: ['cmp'] as const,
      aggregator: 'min',
      registers,
    }),
    reconciled: new Counter({
      name: 'aid_gateway_devicemgmt_reconciled_total',
      help: 'Profile changes the reconcile found on vehicles that the hub did not cause, by reported status',
      labelNames: ['cmp', 'status'] as const,
      registers,
    }),
  };
}

const ACTIONS = ['download', 'enable', 'disable', 'delete', 'activate', 'device'];

/** a fleet's series at 0 from the start: its first transaction, and its first end, show as one */
export function devicemgmtKnownSeries(metrics: DevicemgmtMetrics, cmp: string): void {
  for (const action of ACTIONS) {
    for (const outcome of ['started', 'complete', 'failed', 'gave_up']) metrics.transactions.inc({ cmp, action, outcome }, 0);
    for (const outcome of ['complete', 'failed']) metrics.transactionDuration.zero({ cmp, action, outcome });
  }
}
