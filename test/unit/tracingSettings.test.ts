/**
 * When the hub exports traces, where to and which: off unless an endpoint is given; the OpenTelemetry
 * SDK's own variables (its "Environment Variable Specification": OTEL_EXPORTER_OTLP_ENDPOINT is a
 * base URL to which /v1/traces is added, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT the full URL,
 * OTEL_TRACES_SAMPLER default parentbased_always_on) and a clear refusal of a wrong value.
 */
import { UsageError } from '../../src/errors/usageError';
import { tracingSettings } from '../../src/tracing/settings';

test('off unless an endpoint is given, by the flag or the variables', () => {
  expect(tracingSettings(undefined, {})).toBeUndefined();
  expect(tracingSettings(undefined, { OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
  expect(tracingSettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
});

test('the flag and OTEL_EXPORTER_OTLP_ENDPOINT are base URLs; OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is taken whole', () => {
  expect(tracingSettings('http://collector:4318', {})?.url).toBe('http://collector:4318/v1/traces');
  expect(tracingSettings('https://collector.example/otlp/', {})?.url).toBe('https://collector.example/otlp/v1/traces');
  expect(tracingSettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })?.url).toBe('http://collector:4318/v1/traces');
  expect(tracingSettings(undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom' })?.url).toBe(
    'http://b:4318/custom',
  );
  // the flag wins over the variables
  expect(tracingSettings('http://flag:4318', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom' })?.url).toBe('http://flag:4318/v1/traces');
});

test('defaults: service aid-gateway, parent-based always on, batches every 5 s, 10 s per export', () => {
  expect(tracingSettings('http://c:4318', {})).toEqual({
    url: 'http://c:4318/v1/traces',
    serviceName: 'aid-gateway',
    sampler: 'parentbased_always_on',
    ratio: 1,
    exportDelayMs: 5000,
    exportTimeoutMs: 10000,
  });
});

test('the service name, sampler, its ratio and the batch delay from their variables', () => {
  const env = {
    OTEL_SERVICE_NAME: 'hub-eu',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '0.25',
    OTEL_BSP_SCHEDULE_DELAY: '1000',
    OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
  };
  expect(tracingSettings('http://c:4318', env)).toEqual({
    url: 'http://c:4318/v1/traces',
    serviceName: 'hub-eu',
    sampler: 'parentbased_traceidratio',
    ratio: 0.25,
    exportDelayMs: 1000,
    exportTimeoutMs: 3000,
  });
  expect(tracingSettings('http://c:4318', { ...env, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2000' })?.exportTimeoutMs).toBe(2000);
});

test.each([
  ['not a url', {}, /--otlp-endpoint "not a url" is no URL/],
  ['grpc://c:4317', {}, /http:\/\/ or https:\/\//],
  ['http://user:secret@c:4318', {}, /OTEL_EXPORTER_OTLP_HEADERS/],
  ['http://c:4318', { OTEL_TRACES_SAMPLER: 'sometimes' }, /OTEL_TRACES_SAMPLER "sometimes" is no sampler/],
  ['http://c:4318', { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, /OTEL_TRACES_SAMPLER_ARG "1.5" is no ratio/],
  ['http://c:4318', { OTEL_BSP_SCHEDULE_DELAY: 'soon' }, /OTEL_BSP_SCHEDULE_DELAY/],
  ['http://c:4318', { OTEL_EXPORTER_OTLP_TIMEOUT: '-1' }, /OTEL_EXPORTER_OTLP_TIMEOUT "-1"/],
])('%s with %j is refused with its name', (flag, env, message) => {
  expect(() => tracingSettings(flag, env)).toThrow(UsageError);
  expect(() => tracingSettings(flag, env)).toThrow(message);
});
