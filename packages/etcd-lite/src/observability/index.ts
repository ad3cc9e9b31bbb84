export { LOG_LEVELS, Logger, REDACTED, silentLogger, type LogFields, type LogLevel, type LoggerOptions } from './logger';
export { Metrics, type MetricsOptions } from './metrics';
export {
  MetricsUrlError,
  startMetricsServer,
  type MetricsServer,
  type MetricsServerDependencies,
} from './metrics-server';
