export { inTreeRegistry, mergeRegistries } from './registry';
export { PluginArgsError } from './helpers/args';
export { toleratesTaint, tolerationsTolerateTaint, findUntoleratedTaint } from './helpers/tolerations';
export { nodeSelectorTermsMatch } from '@kube-lite/api';
export { defaultNormalizeScore } from './helpers/normalize';
export { BinderMissingError } from './DefaultBinder';
export { parseNodeResourcesFitArgs, type NodeResourcesFitArgs, type ScoringStrategyType } from './NodeResourcesFit';
