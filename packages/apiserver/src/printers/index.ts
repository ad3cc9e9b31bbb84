// Server-side printing: meta.k8s.io Tables with the columns kubectl get shows.

export { ageSince, humanDuration } from './age';
export { podStatusReason } from './core';
export { buildTable, defaultPrinter, printerFor, type TableOptions } from './table';
export type { KindPrinter, Table, TableColumnDefinition, TableRow } from './types';
