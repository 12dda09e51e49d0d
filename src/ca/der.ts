// DER: building ASN.1 with node-forge's encoder, and reading exact byte ranges back out with a small TLV reader
// (signatures cover the original bytes, so a parsed-and-re-encoded structure is not good enough to verify).
import forge from 'node-forge';

const { asn1 } = forge;
export type Asn1 = forge.asn1.Asn1;

const UNIVERSAL = asn1.Class.UNIVERSAL;
const CONTEXT = asn1.Class.CONTEXT_SPECIFIC;
const T = asn1.Type;

// forge accepts an options object here; its type definitions predate that.
const fromDer = asn1.fromDer as unknown as (bytes: string, options: { strict: boolean; decodeBitStrings: boolean; parseAllBytes: boolean }) => Asn1;

/** forge works on "binary strings" (one char per byte). */
const bin = (bytes: Uint8Array): string => Buffer.from(bytes).toString('binary');

export const der = {
  seq: (...items: Asn1[]): Asn1 => asn1.create(UNIVERSAL, T.SEQUENCE, true, items),
  set: (...items: Asn1[]): Asn1 => asn1.create(UNIVERSAL, T.SET, true, items),
  oid: (oid: string): Asn1 => asn1.create(UNIVERSAL, T.OID, false, asn1.oidToDer(oid).getBytes()),
  null: (): Asn1 => asn1.create(UNIVERSAL, T.NULL, false, ''),
  bool: (value: boolean): Asn1 => asn1.create(UNIVERSAL, T.BOOLEAN, false, value ? '\xff' : '\x00'),
  /** A non-negative INTEGER from big-endian magnitude bytes (a 0x00 is prepended when the top bit is set). */
  uint: (magnitude: Uint8Array): Asn1 => {
    let bytes = Buffer.from(magnitude);
    while (bytes.length > 1 && bytes[0] === 0 && (bytes[1]! & 0x80) === 0) bytes = bytes.subarray(1);
    if ((bytes[0]! & 0x80) !== 0) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return asn1.create(UNIVERSAL, T.INTEGER, false, bin(bytes));
  },
  small: (n: number): Asn1 => asn1.create(UNIVERSAL, T.INTEGER, false, asn1.integerToDer(n).getBytes()),
  octets: (bytes: Uint8Array): Asn1 => asn1.create(UNIVERSAL, T.OCTETSTRING, false, bin(bytes)),
  /** A BIT STRING of whole bytes. */
  bits: (bytes: Uint8Array): Asn1 => asn1.create(UNIVERSAL, T.BITSTRING, false, '\x00' + bin(bytes)),
  utf8: (s: string): Asn1 => asn1.create(UNIVERSAL, T.UTF8, false, forge.util.encodeUtf8(s)),
  /** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. */
  time: (ms: number): Asn1 => {
    const date = new Date(Math.floor(ms / 1000) * 1000);
    return date.getUTCFullYear() < 2050
      ? asn1.create(UNIVERSAL, T.UTCTIME, false, asn1.dateToUtcTime(date))
      : asn1.create(UNIVERSAL, T.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(date));
  },
  /** [tag] EXPLICIT. */
  explicit: (tag: number, inner: Asn1): Asn1 => asn1.create(CONTEXT, tag, true, [inner]),
  /** [tag] IMPLICIT over a primitive value (e.g. GeneralName's uniformResourceIdentifier). */
  implicit: (tag: number, bytes: Uint8Array): Asn1 => asn1.create(CONTEXT, tag, false, bin(bytes)),
  /** [tag] IMPLICIT over a constructed value (e.g. the CSR's attributes). */
  implicitConstructed: (tag: number, items: Asn1[]): Asn1 => asn1.create(CONTEXT, tag, true, items),
  /** Embeds DER produced elsewhere (a public key, a name). Bit strings stay opaque so the bytes survive as they are. */
  parse: (bytes: Uint8Array): Asn1 => fromDer(bin(bytes), { strict: true, decodeBitStrings: false, parseAllBytes: true }),
  encode: (node: Asn1): Buffer => Buffer.from(asn1.toDer(node).getBytes(), 'binary'),
};

/** One DER element: its tag byte, and where its header and contents lie in the buffer it was read from. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the contents. */
  contentStart: number;
  /** Offset just past the element. */
  end: number;
}

export class DerError extends Error {}

/** Reads the element at `offset` (definite lengths only, as DER requires). */
export function readTlv(buf: Uint8Array, offset = 0): Tlv {
  if (offset + 2 > buf.length) throw new DerError('truncated DER element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used in certificates');
  let length = buf[offset + 1]!;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError('invalid DER length');
    if (contentStart + count > buf.length) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[contentStart + i]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > buf.length) throw new DerError('DER element longer than its input');
  return { tag, start: offset, contentStart, end };
}

/** The elements inside a constructed element. */
export function childrenOf(buf: Uint8Array, parent: Tlv): Tlv[] {
  const children: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readTlv(buf, at);
    children.push(child);
    at = child.end;
  }
  return children;
}

export const bytesOf = (buf: Uint8Array, tlv: Tlv): Buffer => Buffer.from(buf.subarray(tlv.start, tlv.end));
export const contentsOf = (buf: Uint8Array, tlv: Tlv): Buffer => Buffer.from(buf.subarray(tlv.contentStart, tlv.end));

export const TAG = { INTEGER: 0x02, BIT_STRING: 0x03, OCTET_STRING: 0x04, OID: 0x06, SEQUENCE: 0x30, SET: 0x31 } as const;

/** PEM blocks of `label` in `text`, as DER. */
export function pemBlocks(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
}

export function toPem(derBytes: Uint8Array, label: string): string {
  const b64 = Buffer.from(derBytes).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

export function decodeOid(buf: Uint8Array, tlv: Tlv): string {
  return asn1.derToOid(bin(contentsOf(buf, tlv)));
}
