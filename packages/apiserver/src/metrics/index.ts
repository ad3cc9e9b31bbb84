// metrics.k8s.io served by the API server itself: a source scraping the
// kubelets' /stats/summary and the REST handlers `kubectl top` and the
// HorizontalPodAutoscaler controller read.

export { DEFAULT_METRIC_RESOLUTION_MS, MetricsSource, type MetricsReader, type MetricsSourceOptions } from './source';
export { metricsResources, NodeMetricsHandler, PodMetricsHandler, type ObjectReader } from './rest';
export { registryReader } from './registry-reader';
export { KubeletScrapeError, type KubeletConnection } from './scraper';
export { SummaryDecodeError } from './summary';
