/**
 * The values XML-RPC carries, as Koji uses them. Decoding yields `XmlRpcDecoded`; encoding accepts the wider
 * `XmlRpcValue` (read-only arrays and objects, `Uint8Array`, an explicit double).
 */

/** What the decoder produces; responses are then parsed by zod schemas, never trusted as typed. */
export type XmlRpcDecoded =
  | null
  | boolean
  | number
  | bigint
  | string
  | Date
  | Buffer
  | XmlRpcDecoded[]
  | { [key: string]: XmlRpcDecoded };

/**
 * A JS number that holds an integer encodes as `<int>`/`<i8>`; wrap it to force `<double>` (Python would then
 * decode a float, which matters for a few Koji fields such as `mtime`).
 */
export class XmlRpcDouble {
  constructor(readonly value: number) {}
}

export function xmlRpcDouble(value: number): XmlRpcDouble {
  return new XmlRpcDouble(value);
}

/** What the encoder accepts. `undefined` struct members are left out, as JSON does. */
export type XmlRpcValue =
  | null
  | undefined
  | boolean
  | number
  | bigint
  | string
  | Date
  | Uint8Array
  | XmlRpcDouble
  | readonly XmlRpcValue[]
  | { readonly [key: string]: XmlRpcValue };

export interface XmlRpcFault {
  faultCode: number;
  faultString: string;
}

export type XmlRpcResponse = { kind: "result"; value: XmlRpcDecoded } | ({ kind: "fault" } & XmlRpcFault);

export interface XmlRpcCall {
  methodName: string;
  params: XmlRpcDecoded[];
}

/** Limits of the wire integer types; Koji (like Python) sends anything outside int32 as `<i8>`. */
export const INT32_MIN = -(2 ** 31);
export const INT32_MAX = 2 ** 31 - 1;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
