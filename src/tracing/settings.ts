/**
 * Whether the hub exports traces, where to and which: off unless an OTLP endpoint is given
 * (`--otlp-endpoint`, or the OpenTelemetry SDK's own variables). The variables are the SDK's
 * standard ones, read here rather than by the SDK so that a wrong value stops the start with its
 * name instead of being replaced by a default.
 */
import { UsageError } from '../errors/usageError';

export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

export interface TracingSettings {
  /** where spans are POSTed (OTLP/HTTP, JSON): the full URL, `/v1/traces` included */
  readonly url: string;
  readonly serviceName: string;
  readonly sampler: SamplerName;
  /** the ratio of the `*traceidratio` samplers, 0 to 1 */
  readonly ratio: number;
  /** how long finished spans wait to be sent together (OTEL_BSP_SCHEDULE_DELAY) */
  readonly exportDelayMs: number;
  /** how long one export may take, its retries included (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
   * OTEL_EXPORTER_OTLP_TIMEOUT) */
  readonly exportTimeoutMs: number;
}

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/**
 * `flag`: `--otlp-endpoint`, the collector's base URL (`/v1/traces` is added, as to
 * OTEL_EXPORTER_OTLP_ENDPOINT); OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is taken as the full URL. Absent
 * both and with OTEL_SDK_DISABLED=true: no tracing.
 */
export function tracingSettings(flag: string | undefined, env: NodeJS.ProcessEnv): TracingSettings | undefined {
  const url = flag !== undefined ? tracesUrl(flag, '--otlp-endpoint', true) : endpointFromEnv(env);
  if (url === undefined || (flag === undefined && env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true')) return undefined;
  const sampler = (env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on') as SamplerName;
  if (!SAMPLERS.includes(sampler)) throw new UsageError(`$OTEL_TRACES_SAMPLER ${JSON.stringify(sampler)} is no sampler; one of ${SAMPLERS.join(', ')}`);
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = arg === undefined || arg === '' ? 1 : Number(arg);
  if (!(ratio >= 0 && ratio <= 1)) throw new UsageError(`$OTEL_TRACES_SAMPLER_ARG ${JSON.stringify(arg)} is no ratio from 0 to 1`);
  const exportDelayMs = milliseconds(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000);
  const exportTimeoutMs = env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT?.trim()
    ? milliseconds(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 10000)
    : milliseconds(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 10000);
  return { url, serviceName: env.OTEL_SERVICE_NAME?.trim() || 'aid-gateway', sampler, ratio, exportDelayMs, exportTimeoutMs };
}

function milliseconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name]?.trim();
  const ms = value === undefined || value === '' ? fallback : Number(value);
  if (!Number.isInteger(ms) || ms < 0) throw new UsageError(`$${name} ${JSON.stringify(value)} is no whole number of milliseconds`);
  return ms;
}

function endpointFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return tracesUrl(traces, '$OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', false);
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? tracesUrl(base, '$OTEL_EXPORTER_OTLP_ENDPOINT', true) : undefined;
}

function tracesUrl(value: string, name: string, isBase: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name} ${JSON.stringify(value)} is no URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${name} takes an http:// or https:// URL (OTLP/HTTP)`);
  if (url.username !== '' || url.password !== '') throw new UsageError(`${name}: a credential goes in $OTEL_EXPORTER_OTLP_HEADERS, not in the URL`);
  return isBase ? `${url.origin}${url.pathname.replace(/\/+$/, '')}/v1/traces${url.search}` : url.href;
}
