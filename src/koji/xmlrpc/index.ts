/**
 * Koji's XML-RPC dialect: the standard types plus `<nil/>` and `<i8>`. Client side: `encodeCall` and
 * `decodeResponse`; server side (the fake hub): `decodeCall`, `encodeResponse` and `encodeFault`.
 */
export { decodeCall, decodeResponse } from "./decode.js";
export { encodeCall, encodedCallBytes, encodeFault, encodeResponse } from "./encode.js";
export { type XmlRpcDecoded, type XmlRpcValue, xmlRpcDouble } from "./value.js";
