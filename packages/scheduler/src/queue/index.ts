export { SchedulingQueue, podUpdateMatters, type QueueCounts, type QueueLocation, type SchedulingQueueOptions } from './scheduling-queue';
export { KeyedHeap } from './heap';
