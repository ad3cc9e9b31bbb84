// How the KV and Watch services' messages cross the wire, cheaper than
// proto-loader's defaults where that changes nothing a client sees: write
// requests keep the bytes they were decoded from (a Raft entry frames them as
// they are), and responses are encoded straight from plain objects.

import type * as grpc from '@grpc/grpc-js';
import * as protobuf from 'protobufjs';
import { loadEtcdRoot } from '../etcdpb/load';
import { rememberWireBytes } from './apply-request';

/** The KV writes proposed through Raft as the client encoded them (EtcdServer.propose). */
const proposedKvMethods = ['Put', 'DeleteRange', 'Txn'];

/** Each KV method's response message. */
const kvResponseTypes: Record<string, string> = {
  Range: 'etcdserverpb.RangeResponse',
  Put: 'etcdserverpb.PutResponse',
  DeleteRange: 'etcdserverpb.DeleteRangeResponse',
  Txn: 'etcdserverpb.TxnResponse',
};

/** The KV service definition etcd-lite serves: `definition` with both changes below. */
export function kvServiceDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return encodingPlainResponses(keepingWireBytes(definition, proposedKvMethods), kvResponseTypes);
}

/**
 * The Watch service definition etcd-lite serves: WatchResponses are encoded
 * from the stream's plain objects with each event's type turned into its
 * enum number (the one enum in a WatchResponse), instead of fromObject
 * copying every event and key-value. A response that does not look as
 * expected (an unknown event type name) goes through the default serializer.
 */
export function watchServiceDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const original = methodOf(definition, 'Watch');
  const root = loadEtcdRoot();
  const responseType = root.lookupType('etcdserverpb.WatchResponse');
  const eventTypeNumbers = root.lookupEnum('mvccpb.Event.EventType').values;
  const serializeSlowly = original.responseSerialize;
  const responseSerialize = (response: unknown): Buffer => {
    const { events } = response as { events?: Array<{ type?: unknown }> | null };
    if (events == null || events.length === 0) return responseType.encode(response as Record<string, unknown>).finish() as Buffer;
    const numbered: Array<Record<string, unknown>> = [];
    for (const event of events) {
      const number = typeof event.type === 'string' ? eventTypeNumbers[event.type] : undefined;
      if (number === undefined) return serializeSlowly(response);
      numbered.push({ ...event, type: number });
    }
    return responseType.encode({ ...(response as Record<string, unknown>), events: numbered }).finish() as Buffer;
  };
  return { ...definition, Watch: { ...original, responseSerialize } };
}

/**
 * A copy of `definition` whose `methods` remember the bytes each request was
 * decoded from, so proposing it frames those bytes instead of converting and
 * encoding the request again.
 */
export function keepingWireBytes(definition: grpc.ServiceDefinition, methods: readonly string[]): grpc.ServiceDefinition {
  const copy: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...definition };
  for (const method of methods) {
    const original = methodOf(definition, method);
    const deserialize = original.requestDeserialize;
    copy[method] = {
      ...original,
      requestDeserialize: (bytes: Buffer) => {
        const request: unknown = deserialize(bytes);
        if (typeof request === 'object' && request !== null) rememberWireBytes(request, bytes);
        return request;
      },
    };
  }
  return copy;
}

/**
 * A copy of `definition` whose methods encode their responses with
 * protobufjs's encoder directly, skipping fromObject (a full copy of the
 * response into message instances). The encoder takes plain objects as they
 * are when every field's value already has its wire type: numbers or decimal
 * strings for 64-bit integers, Buffers for bytes. Only enums need fromObject
 * (the applier names them, as the decoder does), so a response type that
 * contains an enum anywhere keeps the default serializer.
 */
export function encodingPlainResponses(definition: grpc.ServiceDefinition, responseTypes: Record<string, string>): grpc.ServiceDefinition {
  const root = loadEtcdRoot();
  const copy: Record<string, grpc.MethodDefinition<unknown, unknown>> = { ...definition };
  for (const [method, typeName] of Object.entries(responseTypes)) {
    const original = methodOf(definition, method);
    const type = root.lookupType(typeName);
    if (containsEnum(type, new Set())) continue;
    copy[method] = {
      ...original,
      // protobufjs's writer yields a Buffer under Node, as proto-loader's serializer does.
      responseSerialize: (response: unknown) => type.encode(response as Record<string, unknown>).finish() as Buffer,
    };
  }
  return copy;
}

function methodOf(definition: grpc.ServiceDefinition, method: string): grpc.MethodDefinition<unknown, unknown> {
  const found = definition[method];
  if (found === undefined) throw new Error(`no method ${method} in the service definition`);
  return found;
}

function containsEnum(type: protobuf.Type, visited: Set<protobuf.Type>): boolean {
  if (visited.has(type)) return false;
  visited.add(type);
  for (const field of type.fieldsArray) {
    const resolved = field.resolve().resolvedType;
    if (resolved instanceof protobuf.Enum) return true;
    if (resolved instanceof protobuf.Type && containsEnum(resolved, visited)) return true;
  }
  return false;
}
