// Every served kind's TypeScript shape, by API group.
export * from './meta';
export * from './core';
export * from './apps';
export * from './batch';
export * from './autoscaling';
export * from './networking';
export * from './other';
export * from './storage';
