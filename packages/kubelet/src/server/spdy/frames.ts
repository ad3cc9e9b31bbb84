// SPDY/3.1 frames on the wire (SPDY Protocol draft 3.1, section 2.2): pure
// encoding and parsing, no I/O. Header blocks appear here still compressed
// (headerBlock); header-compression.ts turns them into name/value lists, and
// encodeHeaderBlock/decodeHeaderBlock define the uncompressed layout.
//
// Control frame: 1 bit control (1), 15 bits version (3), 16 bits type,
//                8 bits flags, 24 bits length, then length bytes of data.
// Data frame:    1 bit control (0), 31 bits stream id, 8 bits flags,
//                24 bits length, then the payload.

export const SPDY_VERSION = 3;

export const FrameType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** FIN: the sender will send nothing more on the stream (DATA, SYN_STREAM, SYN_REPLY, HEADERS). */
export const FLAG_FIN = 0x01;
/** SYN_STREAM only: the receiver may not send on the stream. */
export const FLAG_UNIDIRECTIONAL = 0x02;
/** SETTINGS only: forget settings persisted earlier. */
export const FLAG_SETTINGS_CLEAR = 0x01;

/** RST_STREAM status codes. */
export const StreamStatus = {
  protocolError: 1,
  invalidStream: 2,
  refusedStream: 3,
  unsupportedVersion: 4,
  cancel: 5,
  internalError: 6,
  flowControlError: 7,
  streamInUse: 8,
  streamAlreadyClosed: 9,
  frameTooLarge: 11,
} as const;

/** GOAWAY status codes. */
export const GoAwayStatus = { ok: 0, protocolError: 1, internalError: 2 } as const;

/** SETTINGS ids (only the ones this implementation acts on). */
export const SettingId = { maxConcurrentStreams: 4, initialWindowSize: 7 } as const;

/** Every stream's send and receive window when a connection starts, and the connection's own (SPDY/3.1). */
export const DEFAULT_INITIAL_WINDOW_BYTES = 64 * 1024;
/** Largest window a WINDOW_UPDATE may produce (2^31 - 1). */
export const MAX_WINDOW_BYTES = 0x7fffffff;
/** Largest payload the 24-bit length field can describe. */
export const MAX_FRAME_PAYLOAD_BYTES = 0xffffff;

const CONTROL_BIT = 0x80000000;
const STREAM_ID_MASK = 0x7fffffff;
const FRAME_HEADER_BYTES = 8;

/** Header names (lower case) to values; several values travel NUL-separated in one entry. */
export type HeaderList = Array<[name: string, value: string]>;

export interface Setting {
  id: number;
  flags: number;
  value: number;
}

/** A frame as it is on the wire: header blocks still compressed. */
export type WireFrame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'synStream'; streamId: number; associatedStreamId: number; priority: number; slot: number; flags: number; headerBlock: Buffer }
  | { type: 'synReply'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'rstStream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; settings: Setting[] }
  | { type: 'ping'; id: number }
  | { type: 'goAway'; lastGoodStreamId: number; status: number }
  | { type: 'headers'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'windowUpdate'; streamId: number; deltaWindowBytes: number };

/** The bytes cannot be a SPDY/3 frame (wrong version, truncated payload, bad header block...). */
export class SpdyProtocolError extends Error {
  override readonly name = 'SpdyProtocolError';
}

/** A frame is larger than the receiver allows. */
export class SpdyFrameTooLargeError extends Error {
  override readonly name = 'SpdyFrameTooLargeError';
  constructor(readonly lengthBytes: number, readonly limitBytes: number) {
    super(`a SPDY frame of ${lengthBytes} bytes exceeds the limit of ${limitBytes} bytes`);
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD_BYTES) throw new SpdyFrameTooLargeError(payload.length, MAX_FRAME_PAYLOAD_BYTES);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE((CONTROL_BIT | (SPDY_VERSION << 16) | type) >>> 0, 0);
  header.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([header, payload]);
}

function words(...values: number[]): Buffer {
  const buffer = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => buffer.writeUInt32BE(value >>> 0, index * 4));
  return buffer;
}

function checkStreamId(streamId: number, allowZero: boolean): void {
  if (!Number.isInteger(streamId) || streamId < 0 || streamId > STREAM_ID_MASK || (!allowZero && streamId === 0)) {
    throw new RangeError(`stream id ${streamId} is not a 31-bit ${allowZero ? '' : 'non-zero '}integer`);
  }
}

/** Serializes one frame. */
export function encodeFrame(frame: WireFrame): Buffer {
  switch (frame.type) {
    case 'data': {
      checkStreamId(frame.streamId, false);
      if (frame.data.length > MAX_FRAME_PAYLOAD_BYTES) throw new SpdyFrameTooLargeError(frame.data.length, MAX_FRAME_PAYLOAD_BYTES);
      const header = words(frame.streamId, (frame.flags << 24) | frame.data.length);
      return Buffer.concat([header, frame.data]);
    }
    case 'synStream': {
      checkStreamId(frame.streamId, false);
      checkStreamId(frame.associatedStreamId, true);
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(frame.streamId, 0);
      fixed.writeUInt32BE(frame.associatedStreamId, 4);
      fixed.writeUInt8((frame.priority & 0x07) << 5, 8);
      fixed.writeUInt8(frame.slot & 0xff, 9);
      return controlFrame(FrameType.synStream, frame.flags, Buffer.concat([fixed, frame.headerBlock]));
    }
    case 'synReply':
      checkStreamId(frame.streamId, false);
      return controlFrame(FrameType.synReply, frame.flags, Buffer.concat([words(frame.streamId), frame.headerBlock]));
    case 'headers':
      checkStreamId(frame.streamId, false);
      return controlFrame(FrameType.headers, frame.flags, Buffer.concat([words(frame.streamId), frame.headerBlock]));
    case 'rstStream':
      checkStreamId(frame.streamId, false);
      return controlFrame(FrameType.rstStream, 0, words(frame.streamId, frame.status));
    case 'settings':
      return controlFrame(FrameType.settings, frame.flags, words(frame.settings.length, ...frame.settings.flatMap((setting) => [(setting.flags << 24) | (setting.id & 0xffffff), setting.value])));
    case 'ping':
      return controlFrame(FrameType.ping, 0, words(frame.id));
    case 'goAway':
      checkStreamId(frame.lastGoodStreamId, true);
      return controlFrame(FrameType.goAway, 0, words(frame.lastGoodStreamId, frame.status));
    case 'windowUpdate':
      checkStreamId(frame.streamId, true);
      if (frame.deltaWindowBytes < 1 || frame.deltaWindowBytes > MAX_WINDOW_BYTES) throw new RangeError(`window delta ${frame.deltaWindowBytes} is outside 1..2^31-1`);
      return controlFrame(FrameType.windowUpdate, 0, words(frame.streamId, frame.deltaWindowBytes));
  }
}

function parseControl(type: number, flags: number, payload: Buffer): WireFrame | undefined {
  const need = (bytes: number, what: string): void => {
    if (payload.length < bytes) throw new SpdyProtocolError(`${what} frame of ${payload.length} bytes is shorter than ${bytes}`);
  };
  const streamId = (offset: number): number => (payload.readUInt32BE(offset) & STREAM_ID_MASK) >>> 0;
  switch (type) {
    case FrameType.synStream: {
      need(10, 'SYN_STREAM');
      const priorityByte = payload.readUInt8(8);
      return { type: 'synStream', streamId: streamId(0), associatedStreamId: streamId(4), priority: priorityByte >> 5, slot: payload.readUInt8(9), flags, headerBlock: payload.subarray(10) };
    }
    case FrameType.synReply:
      need(4, 'SYN_REPLY');
      return { type: 'synReply', streamId: streamId(0), flags, headerBlock: payload.subarray(4) };
    case FrameType.headers:
      need(4, 'HEADERS');
      return { type: 'headers', streamId: streamId(0), flags, headerBlock: payload.subarray(4) };
    case FrameType.rstStream:
      need(8, 'RST_STREAM');
      return { type: 'rstStream', streamId: streamId(0), status: payload.readUInt32BE(4) };
    case FrameType.settings: {
      need(4, 'SETTINGS');
      const count = payload.readUInt32BE(0);
      if (payload.length !== 4 + count * 8) throw new SpdyProtocolError(`SETTINGS frame announces ${count} entries in ${payload.length - 4} bytes`);
      const settings: Setting[] = [];
      for (let index = 0; index < count; index++) {
        const idWord = payload.readUInt32BE(4 + index * 8);
        settings.push({ flags: idWord >>> 24, id: idWord & 0xffffff, value: payload.readUInt32BE(8 + index * 8) });
      }
      return { type: 'settings', flags, settings };
    }
    case FrameType.ping:
      need(4, 'PING');
      return { type: 'ping', id: payload.readUInt32BE(0) };
    case FrameType.goAway:
      need(8, 'GOAWAY');
      return { type: 'goAway', lastGoodStreamId: streamId(0), status: payload.readUInt32BE(4) };
    case FrameType.windowUpdate:
      need(8, 'WINDOW_UPDATE');
      return { type: 'windowUpdate', streamId: streamId(0), deltaWindowBytes: payload.readUInt32BE(4) & 0x7fffffff };
    default:
      // Unknown control frames (NOOP, CREDENTIAL) are ignored, as the spec asks.
      return undefined;
  }
}

/**
 * Cuts a byte stream into frames. Bytes may arrive in any chunking (kubectl's
 * WebSocket tunnel does not align messages with frames); a partial frame waits
 * for the rest. A frame longer than maxFrameBytes is refused before it is
 * buffered, so one peer cannot make us hold more than that.
 */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxFrameBytes: number = MAX_FRAME_PAYLOAD_BYTES) {}

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  push(chunk: Buffer): WireFrame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: WireFrame[] = [];
    let offset = 0;
    while (this.pending.length - offset >= FRAME_HEADER_BYTES) {
      const first = this.pending.readUInt32BE(offset);
      const second = this.pending.readUInt32BE(offset + 4);
      const length = second & 0xffffff;
      const flags = second >>> 24;
      if (length > this.maxFrameBytes) throw new SpdyFrameTooLargeError(length, this.maxFrameBytes);
      if (this.pending.length - offset < FRAME_HEADER_BYTES + length) break;
      const payload = this.pending.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length);
      offset += FRAME_HEADER_BYTES + length;
      if ((first & CONTROL_BIT) === 0) {
        // Copied: the caller may keep data frames while the parse buffer is reused.
        frames.push({ type: 'data', streamId: first & STREAM_ID_MASK, flags, data: Buffer.from(payload) });
        continue;
      }
      const version = (first >>> 16) & 0x7fff;
      if (version !== SPDY_VERSION) throw new SpdyProtocolError(`SPDY version ${version} is not supported (only 3)`);
      const frame = parseControl(first & 0xffff, flags, Buffer.from(payload));
      if (frame) frames.push(frame);
    }
    this.pending = this.pending.subarray(offset);
    return frames;
  }
}

/** The uncompressed name/value block of SPDY/3: a count, then length-prefixed names and values (32-bit lengths). */
export function encodeHeaderBlock(headers: HeaderList): Buffer {
  const parts: Buffer[] = [words(headers.length)];
  for (const [name, value] of headers) {
    if (name.length === 0 || name !== name.toLowerCase()) throw new RangeError(`SPDY header name ${JSON.stringify(name)} must be non-empty and lower case`);
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    parts.push(words(nameBytes.length), nameBytes, words(valueBytes.length), valueBytes);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): HeaderList {
  let offset = 0;
  const read = (what: string): Buffer => {
    if (offset + 4 > block.length) throw new SpdyProtocolError(`header block ends inside the length of ${what}`);
    const length = block.readUInt32BE(offset);
    offset += 4;
    if (offset + length > block.length) throw new SpdyProtocolError(`header block ends inside ${what} (${length} bytes announced)`);
    const bytes = block.subarray(offset, offset + length);
    offset += length;
    return bytes;
  };
  if (block.length < 4) throw new SpdyProtocolError('header block is shorter than its entry count');
  const count = block.readUInt32BE(0);
  offset = 4;
  const headers: HeaderList = [];
  const seen = new Set<string>();
  for (let index = 0; index < count; index++) {
    const name = read('a header name').toString('utf8');
    const value = read(`the value of ${JSON.stringify(name)}`).toString('utf8');
    if (name.length === 0) throw new SpdyProtocolError('header block holds an empty name');
    if (seen.has(name)) throw new SpdyProtocolError(`header block names ${JSON.stringify(name)} twice`);
    seen.add(name);
    headers.push([name, value]);
  }
  if (offset !== block.length) throw new SpdyProtocolError(`header block has ${block.length - offset} bytes after its ${count} entries`);
  return headers;
}

/** The first value of a header (values are NUL-separated), undefined when absent. */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const entry = headers.find(([candidate]) => candidate === name);
  return entry === undefined ? undefined : entry[1].split('\0')[0];
}
