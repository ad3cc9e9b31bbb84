// The part of hpack.js (which ships no types) the client listener uses.
declare module 'hpack.js' {
  export interface HpackHeader {
    name: string;
    value: string;
    neverIndex?: boolean;
    /** Add the header to the dynamic table (default true). */
    incremental?: boolean;
    huffman?: boolean;
  }
  interface TableOptions {
    table: { maxSize: number };
  }
  export interface Decompressor {
    write(data: Buffer): boolean;
    execute(): void;
    read(): HpackHeader | null;
    updateTableSize(size: number): void;
    on(event: 'error', listener: (error: Error) => void): this;
  }
  export const decompressor: { create(options: TableOptions): Decompressor };
}
