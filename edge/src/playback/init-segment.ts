/**
 * What a player must know before it fetches a segment, read from the stream's own init
 * segment (ISO/IEC 14496-12 and 14496-15): the H.264 sample entry (`avc1`) gives the coded
 * picture's width and height, its `avcC` record the profile, constraint flags and level of the
 * SPS, i.e. the RFC 6381 codec string `avc1.PPCCLL` that HLS's CODECS attribute carries.
 */
export interface VideoFacts {
  codecs: string;
  width: number;
  height: number;
}

/** Boxes whose payload is only child boxes, on the path moov → … → stsd. */
const CONTAINERS = new Set(["moov", "trak", "mdia", "minf", "stbl"]);
/** stsd: full box header (4) + entry count (4) before its sample entries. */
const STSD_HEADER = 8;
/** VisualSampleEntry: SampleEntry (8) + pre_defined/reserved (16) before width, height; children after 78 bytes. */
const VISUAL_WIDTH_AT = 24;
const VISUAL_CHILDREN_AT = 78;

interface Box {
  type: string;
  body: number;
  end: number;
}

function* boxes(buf: Uint8Array, start: number, end: number): Generator<Box> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = start;
  while (pos + 8 <= end) {
    const size = view.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!, buf[pos + 6]!, buf[pos + 7]!);
    // 64-bit sizes and to-end boxes do not occur in an init segment this small; refuse them.
    if (size < 8 || pos + size > end) throw new Error(`malformed box "${type}" at ${pos}`);
    yield { type, body: pos + 8, end: pos + size };
    pos += size;
  }
}

function find(buf: Uint8Array, type: string, start: number, end: number): Box | null {
  for (const box of boxes(buf, start, end)) {
    if (box.type === type) return box;
    if (CONTAINERS.has(box.type)) {
      const inner = find(buf, type, box.body, box.end);
      if (inner) return inner;
    }
  }
  return null;
}

/** The video facts of an H.264 fMP4 init segment; throws when it holds no avc1/avcC sample entry. */
export function videoFacts(init: Uint8Array): VideoFacts {
  const view = new DataView(init.buffer, init.byteOffset, init.byteLength);
  const stsd = find(init, "stsd", 0, init.length);
  if (!stsd) throw new Error("no stsd box in the init segment");
  for (const entry of boxes(init, stsd.body + STSD_HEADER, stsd.end)) {
    if (entry.type !== "avc1" && entry.type !== "avc3") continue;
    const width = view.getUint16(entry.body + VISUAL_WIDTH_AT);
    const height = view.getUint16(entry.body + VISUAL_WIDTH_AT + 2);
    for (const child of boxes(init, entry.body + VISUAL_CHILDREN_AT, entry.end)) {
      if (child.type !== "avcC") continue;
      // AVCDecoderConfigurationRecord: configurationVersion, then the SPS's profile_idc,
      // constraint flags and level_idc (14496-15 5.3.3.1).
      const hex = (i: number) => init[child.body + i]!.toString(16).padStart(2, "0");
      return { codecs: `${entry.type}.${hex(1)}${hex(2)}${hex(3)}`, width, height };
    }
  }
  throw new Error("no H.264 sample entry with an avcC box in the init segment");
}
