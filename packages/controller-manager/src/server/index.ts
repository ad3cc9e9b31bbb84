export { parseFlags, parseDurationMs, FlagError, type ConnectionFlags, type ControllerManagerFlags } from './flags';
export { clientOptionsFromFlags } from './connection';
export { serveHttp, type HttpEndpoints } from './http';
