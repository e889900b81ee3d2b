/**
 * Logger, metrics and tracer, created once per container and shared by every handler.
 *
 * Emails are personal data: the log formatter masks every address in the message and in all
 * attributes, so a handler that forgets `maskEmail` still cannot leak one.
 */
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { maskEmailsDeep, maskEmailsInText } from './core/email.js';
import { ORPHANED_SERVICE_KEYS_METRIC, OUTCOME_METRIC_NAMES, SLA_MISSED_METRIC } from './core/metric-names.js';
import type { OutcomeStatus } from './core/outcome.js';
import type { OutcomeMetricsSink } from './usecases/ports.js';

export { maskEmailsDeep, maskEmailsInText };

export class MaskingLogFormatter extends LogFormatter {
  public formatAttributes(attributes: UnformattedAttributes, additionalLogAttributes: LogAttributes): LogItem {
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: maskEmailsInText(attributes.message),
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      cold_start: attributes.lambdaContext?.coldStart,
      function_name: attributes.lambdaContext?.functionName,
      function_request_id: attributes.lambdaContext?.awsRequestId,
      xray_trace_id: attributes.xRayTraceId,
    };
    const item = new LogItem({ attributes: base });
    item.addAttributes(maskEmailsDeep(additionalLogAttributes) as LogAttributes);
    return item;
  }
}

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'arize-offboarding', logFormatter: new MaskingLogFormatter() });
/**
 * Metrics log through our (masking) logger. Tasks that record no outcome (validate, summarize) publish nothing, which
 * Metrics reports as a warning on every invocation: that one is demoted to debug so warnings stay worth reading.
 */
const metricsLog = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.info(message),
  warn: (message: string) => (message.startsWith('No application metrics to publish') ? logger.debug(message) : logger.warn(message)),
  error: (message: string) => logger.error(message),
};

export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ArizeOffboarding',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'arize-offboarding',
  logger: metricsLog,
});
export const tracer = new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'arize-offboarding' });

export { OUTCOME_METRIC_NAMES };

export type { OutcomeMetricsSink };

export const powertoolsOutcomeMetrics: OutcomeMetricsSink = {
  countOutcomes(counts) {
    for (const [status, name] of Object.entries(OUTCOME_METRIC_NAMES) as [OutcomeStatus, string | null][]) {
      const value = counts[status] ?? 0;
      if (name !== null && value > 0) metrics.addMetric(name, MetricUnit.Count, value);
    }
  },
  countOrphanedServiceKeys(count) {
    if (count > 0) metrics.addMetric(ORPHANED_SERVICE_KEYS_METRIC, MetricUnit.Count, count);
  },
  countSlaMisses(count) {
    if (count > 0) metrics.addMetric(SLA_MISSED_METRIC, MetricUnit.Count, count);
  },
};

/** Structural logger for use cases and the Arize client (attributes masked by the formatter). */
export interface StructuredLog {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export const log: StructuredLog = {
  debug: (message, attributes) => logger.debug(message, attributes ?? {}),
  info: (message, attributes) => logger.info(message, attributes ?? {}),
  warn: (message, attributes) => logger.warn(message, attributes ?? {}),
  error: (message, attributes) => logger.error(message, attributes ?? {}),
};
