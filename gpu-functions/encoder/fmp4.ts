/**
 * Just enough ISO BMFF (ISO/IEC 14496-12) to turn one independently encoded chunk into a
 * segment of a continuous fMP4 stream: split init (ftyp+moov) from media (moof+mdat), and
 * rewrite each fragment's sequence number (mfhd) and decode time (tfdt) so chunk k follows
 * chunk k−1 exactly.
 */
export interface Box {
  type: string;
  start: number;
  size: number;
  headerSize: number;
}

const CONTAINERS = new Set(["moov", "trak", "mdia", "minf", "stbl", "moof", "traf", "mvex", "edts", "dinf"]);

export function readBoxes(buf: Uint8Array, start = 0, end = buf.length): Box[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const boxes: Box[] = [];
  let pos = start;
  while (pos + 8 <= end) {
    let size = view.getUint32(pos);
    const type = String.fromCharCode(buf[pos + 4]!, buf[pos + 5]!, buf[pos + 6]!, buf[pos + 7]!);
    let headerSize = 8;
    if (size === 1) {
      size = Number(view.getBigUint64(pos + 8));
      headerSize = 16;
    } else if (size === 0) {
      size = end - pos;
    }
    if (size < headerSize || pos + size > end) throw new Error(`malformed box "${type}" at ${pos} (size ${size})`);
    boxes.push({ type, start: pos, size, headerSize });
    pos += size;
  }
  if (pos !== end) throw new Error(`trailing ${end - pos} bytes after the last box`);
  return boxes;
}

/** Depth-first search for boxes of `type` (descending into known containers). */
export function findBoxes(buf: Uint8Array, type: string, start = 0, end = buf.length): Box[] {
  const found: Box[] = [];
  for (const box of readBoxes(buf, start, end)) {
    if (box.type === type) found.push(box);
    if (CONTAINERS.has(box.type)) found.push(...findBoxes(buf, type, box.start + box.headerSize, box.start + box.size));
  }
  return found;
}

export interface SplitSegment {
  init: Uint8Array;
  media: Uint8Array;
}

/** Splits an fMP4 file at its first moof: init = everything before, media = the fragments. */
export function splitInit(file: Uint8Array): SplitSegment {
  const boxes = readBoxes(file);
  const firstMoof = boxes.find((b) => b.type === "moof");
  if (!firstMoof) throw new Error("no moof box: the encoder did not write a fragmented MP4");
  if (!boxes.some((b) => b.type === "moov")) throw new Error("no moov box before the first fragment");
  // Only fragments go into a media segment: the trailing mfra (random-access index) the muxer
  // writes describes this file alone and would be wrong inside a concatenated stream.
  const fragments = boxes.filter((b) => b.start >= firstMoof.start && (b.type === "moof" || b.type === "mdat"));
  const media = new Uint8Array(fragments.reduce((n, b) => n + b.size, 0));
  let at = 0;
  for (const b of fragments) {
    media.set(file.subarray(b.start, b.start + b.size), at);
    at += b.size;
  }
  return { init: file.subarray(0, firstMoof.start), media };
}

/**
 * Rewrites every fragment in `media` in place: sequence numbers continue from `firstSequence`
 * and decode times are shifted by `decodeTimeOffset` (track timescale units).
 */
export function retimeFragments(media: Uint8Array, firstSequence: number, decodeTimeOffset: bigint): void {
  const view = new DataView(media.buffer, media.byteOffset, media.byteLength);
  let seq = firstSequence;
  for (const moof of readBoxes(media).filter((b) => b.type === "moof")) {
    const inner = moof.start + moof.headerSize;
    const end = moof.start + moof.size;
    for (const mfhd of findBoxes(media, "mfhd", inner, end)) view.setUint32(mfhd.start + mfhd.headerSize + 4, seq);
    for (const tfdt of findBoxes(media, "tfdt", inner, end)) {
      const at = tfdt.start + tfdt.headerSize;
      const version = media[at]!;
      if (version === 1) {
        view.setBigUint64(at + 4, view.getBigUint64(at + 4) + decodeTimeOffset);
      } else {
        const next = BigInt(view.getUint32(at + 4)) + decodeTimeOffset;
        if (next > 0xffffffffn) throw new Error("tfdt version 0 cannot hold the decode time; encoder must write version 1");
        view.setUint32(at + 4, Number(next));
      }
    }
    seq++;
  }
}

/** RFC 6381 codec string of the first H.264 track (`avc1.PPCCLL`) from its avcC box. */
export function avcCodecString(init: Uint8Array): string {
  // avcC sits inside stsd → avc1 (sample entries, not plain containers): scan for its type.
  const at = indexOfType(init, "avcC");
  if (at < 0) throw new Error("no avcC box in the init segment");
  const hex = (n: number) => n.toString(16).padStart(2, "0");
  // AVCDecoderConfigurationRecord: configurationVersion, profile, compatibility, level.
  return `avc1.${hex(init[at + 5]!)}${hex(init[at + 6]!)}${hex(init[at + 7]!)}`;
}

function indexOfType(buf: Uint8Array, type: string): number {
  const t = [...type].map((ch) => ch.charCodeAt(0));
  for (let i = 4; i + 4 <= buf.length; i++) {
    if (buf[i] === t[0] && buf[i + 1] === t[1] && buf[i + 2] === t[2] && buf[i + 3] === t[3]) return i;
  }
  return -1;
}
