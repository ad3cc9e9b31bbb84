// @kube-lite/scheduler: kube-scheduler's framework (one interface per
// extension point), the in-tree plugins, the scheduling queue and the
// scheduling loop over a cluster snapshot. Pure: no I/O of its own.
export * from './framework';
export * from './config';
export * from './snapshot';
export * from './queue';
export * from './plugins';
export * from './scheduler';
