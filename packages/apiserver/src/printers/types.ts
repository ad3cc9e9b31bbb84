// meta.k8s.io Table: the server-side rendering kubectl get prints.

/** One column of a Table; priority 0 is always shown, 1 only with -o wide. */
export interface TableColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  /** PartialObjectMetadata (the default), the whole object, or absent (includeObject=None). */
  object?: unknown;
}

export interface Table {
  kind: 'Table';
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/** How one kind is printed: its columns and the cells of one object, in column order. */
export interface KindPrinter {
  columns: TableColumnDefinition[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  cells(object: any, nowMs: number): unknown[];
}

export function column(name: string, description: string, options: { type?: TableColumnDefinition['type']; format?: string; priority?: number } = {}): TableColumnDefinition {
  return { name, type: options.type ?? 'string', format: options.format ?? '', description, priority: options.priority ?? 0 };
}

export const NAME_COLUMN = column('Name', 'Name must be unique within a namespace.', { format: 'name' });
export const AGE_COLUMN = column('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');
