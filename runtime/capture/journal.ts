/**
 * The capture journal: a bounded, append-only, fsync'd spool on local disk.
 *
 * Every accepted capture record is appended (one `writev`, no fsync) to the active segment the
 * moment it is recorded, so it survives the process being killed. Every flush interval the
 * active segment is sealed: fsync'd (group commit, survives power loss from then on), then
 * handed to the flusher, which writes its records to their shards and the index and deletes
 * the segment once every record is in both. Segments left by a previous process (clean stop,
 * crash or kill -9) are replayed on open.
 *
 * Layout of <dir>:
 *   journal.lock                      pid of the process that owns the journal
 *   seg-<16-digit sequence>.wal       segments, replayed in sequence order
 * Segment file: 8-byte magic "OFCJNL01", then frames:
 *   u32 LE payload length | u32 LE CRC-32 of the payload | payload
 *   payload = u32 LE header length | header (JSON, UTF-8) | blob 0 | blob 1 | …
 * A frame that is cut short or fails its CRC ends the segment (a torn tail after a crash):
 * everything before it is replayed, and the runtime never appends after a failed write.
 */
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

export const SEGMENT_MAGIC = Buffer.from('OFCJNL01', 'latin1');
const FRAME_HEADER = 8;

const fsyncFd = promisify(fs.fsync);
const closeFd = promisify(fs.close);

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE), chained over several buffers. Uses zlib's native one when Node has it. */
export function crc32(parts: readonly Uint8Array[]): number {
  const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  if (native) {
    let crc = 0;
    for (const p of parts) crc = native(p, crc);
    return crc >>> 0;
  }
  let c = -1;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export interface Frame<H = Record<string, unknown>> {
  header: H;
  blobs: Buffer[];
}

export interface Segment {
  seq: number;
  file: string;
  bytes: number;
}

export interface ReadResult<H> {
  frames: Array<Frame<H>>;
  /** Set when the segment ends in a frame cut short or failing its CRC (what a crash leaves). */
  tornAt?: number;
}

export class JournalLockedError extends Error {}

export interface JournalOptions {
  dir: string;
  /** Total bytes of all segments; appends beyond it are refused (capture degrades, inference does not). */
  maxBytes: number;
}

const segName = (seq: number) => `seg-${String(seq).padStart(16, '0')}.wal`;
const SEG_RE = /^seg-(\d{16})\.wal$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function encodeFrame(header: unknown, blobs: readonly Buffer[]): Buffer[] {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.allocUnsafe(FRAME_HEADER + 4);
  head.writeUInt32LE(json.length, FRAME_HEADER);
  let payloadLength = 4 + json.length;
  for (const b of blobs) payloadLength += b.length;
  head.writeUInt32LE(payloadLength, 0);
  head.writeUInt32LE(crc32([head.subarray(FRAME_HEADER), json, ...blobs]), 4);
  return [head, json, ...blobs];
}

export function decodeSegment<H>(data: Buffer, blobLengths: (header: H) => number[]): ReadResult<H> {
  if (data.length < SEGMENT_MAGIC.length || !data.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) {
    return { frames: [], tornAt: 0 };
  }
  const frames: Array<Frame<H>> = [];
  let at = SEGMENT_MAGIC.length;
  while (at < data.length) {
    if (data.length - at < FRAME_HEADER) return { frames, tornAt: at };
    const len = data.readUInt32LE(at);
    const crc = data.readUInt32LE(at + 4);
    const start = at + FRAME_HEADER;
    if (len < 4 || data.length - start < len) return { frames, tornAt: at };
    const payload = data.subarray(start, start + len);
    if (crc32([payload]) !== crc) return { frames, tornAt: at };
    const headerLength = payload.readUInt32LE(0);
    if (4 + headerLength > len) return { frames, tornAt: at };
    let header: H;
    try {
      header = JSON.parse(payload.toString('utf8', 4, 4 + headerLength)) as H;
    } catch {
      return { frames, tornAt: at };
    }
    const blobs: Buffer[] = [];
    let off = 4 + headerLength;
    for (const n of blobLengths(header)) {
      blobs.push(payload.subarray(off, off + n));
      off += n;
    }
    if (off !== len) return { frames, tornAt: at };
    frames.push({ header, blobs });
    at = start + len;
  }
  return { frames };
}

export class Journal {
  private activeFd = -1;
  private activeSeq = 0;
  private activeBytes = 0;
  private activeFrames = 0;
  private activeOpenedAt = 0;
  private sealedSegments: Segment[] = [];
  private sealedBytes = 0;
  private closed = false;
  private readonly lockFile: string;

  private constructor(private readonly options: JournalOptions) {
    this.lockFile = path.join(options.dir, 'journal.lock');
  }

  /** Opens (creating) the journal directory, takes its lock, and lists the segments a previous process left for replay. */
  static async open(options: JournalOptions): Promise<Journal> {
    const j = new Journal(options);
    await fs.promises.mkdir(options.dir, { recursive: true });
    j.lock();
    try {
      const names = (await fs.promises.readdir(options.dir)).filter((n) => SEG_RE.test(n)).sort();
      for (const name of names) {
        const file = path.join(options.dir, name);
        // The previous process may have died before its last group commit: make what it wrote durable.
        const fd = fs.openSync(file, 'r+');
        try {
          await fsyncFd(fd);
          const bytes = fs.fstatSync(fd).size;
          j.sealedSegments.push({ seq: Number(SEG_RE.exec(name)![1]), file, bytes });
          j.sealedBytes += bytes;
        } finally {
          fs.closeSync(fd);
        }
      }
      j.activeSeq = j.sealedSegments.length ? j.sealedSegments[j.sealedSegments.length - 1].seq : 0;
      j.openActive();
      await j.syncDir();
    } catch (err) {
      j.unlock();
      throw err;
    }
    return j;
  }

  private lock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(this.lockFile, String(process.pid), { flag: 'wx' });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number(fs.readFileSync(this.lockFile, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
          throw new JournalLockedError(`capture journal ${this.options.dir} is in use by process ${pid}; give each runtime its own --capture-journal-dir`);
        }
        fs.rmSync(this.lockFile, { force: true });
      }
    }
    throw new JournalLockedError(`could not lock capture journal ${this.options.dir}`);
  }

  private unlock(): void {
    try {
      if (fs.readFileSync(this.lockFile, 'utf8').trim() === String(process.pid)) fs.rmSync(this.lockFile, { force: true });
    } catch {
      /* already gone */
    }
  }

  private openActive(): void {
    this.activeSeq += 1;
    const file = path.join(this.options.dir, segName(this.activeSeq));
    this.activeFd = fs.openSync(file, 'wx');
    fs.writeSync(this.activeFd, SEGMENT_MAGIC);
    this.activeBytes = SEGMENT_MAGIC.length;
    this.activeFrames = 0;
    this.activeOpenedAt = Date.now();
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Bytes on disk: sealed segments waiting for the flusher plus the active segment. */
  get bytes(): number {
    return this.sealedBytes + this.activeBytes;
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  get pendingFrames(): number {
    return this.activeFrames;
  }

  /** Milliseconds since the active segment received its first frame (0 when empty). */
  activeAgeMs(now = Date.now()): number {
    return this.activeFrames === 0 ? 0 : now - this.activeOpenedAt;
  }

  get activeSize(): number {
    return this.activeBytes;
  }

  /**
   * Appends one frame (synchronously: one writev into the page cache, no fsync). Returns
   * 'full' when the journal is at its bound, 'error' when the write failed; the frame is then
   * not journaled and the caller counts it as dropped.
   */
  append(parts: readonly Buffer[]): 'ok' | 'full' | 'error' | 'closed' {
    if (this.closed || this.activeFd < 0) return 'closed';
    let n = 0;
    for (const p of parts) n += p.length;
    if (this.bytes + n > this.options.maxBytes) return 'full';
    try {
      const written = fs.writevSync(this.activeFd, parts as Buffer[]);
      if (written !== n) throw new Error(`short write: ${written} of ${n} bytes`);
    } catch (err) {
      // Never append after a failed write (the frame may be half there): start a new segment.
      this.activeBytes = fs.fstatSync(this.activeFd).size;
      this.rotateAfterError();
      void err;
      return 'error';
    }
    if (this.activeFrames === 0) this.activeOpenedAt = Date.now();
    this.activeBytes += n;
    this.activeFrames += 1;
    return 'ok';
  }

  private rotateAfterError(): void {
    try {
      const seg: Segment = { seq: this.activeSeq, file: path.join(this.options.dir, segName(this.activeSeq)), bytes: this.activeBytes };
      fs.closeSync(this.activeFd);
      this.activeFd = -1;
      this.sealedSegments.push(seg);
      this.sealedBytes += seg.bytes;
      this.activeBytes = 0;
      this.openActive();
    } catch {
      this.activeFd = -1; // appends now report 'closed' until seal() manages to open a segment
    }
  }

  /**
   * Group commit: fsyncs the active segment and hands it over as sealed; a new active segment
   * takes the next appends. Returns undefined when there was nothing to seal.
   */
  async seal(): Promise<Segment | undefined> {
    if (this.activeFd < 0) {
      if (this.closed) return undefined;
      this.openActive();
      return undefined;
    }
    if (this.activeFrames === 0) return undefined;
    const fd = this.activeFd;
    const seg: Segment = { seq: this.activeSeq, file: path.join(this.options.dir, segName(this.activeSeq)), bytes: this.activeBytes };
    this.activeFd = -1;
    this.activeBytes = 0;
    this.activeFrames = 0;
    if (!this.closed) this.openActive();
    this.sealedBytes += seg.bytes;
    try {
      await fsyncFd(fd);
    } finally {
      await closeFd(fd);
    }
    await this.syncDir();
    this.sealedSegments.push(seg);
    this.sealedSegments.sort((a, b) => a.seq - b.seq);
    return seg;
  }

  /** Sealed segments waiting for the flusher, oldest first. */
  sealed(): readonly Segment[] {
    return this.sealedSegments;
  }

  async read<H>(seg: Segment, blobLengths: (header: H) => number[]): Promise<ReadResult<H>> {
    return decodeSegment<H>(await fs.promises.readFile(seg.file), blobLengths);
  }

  /** Deletes a segment whose every record is stored and indexed. */
  async remove(seg: Segment): Promise<void> {
    const i = this.sealedSegments.indexOf(seg);
    if (i === -1) return;
    await fs.promises.rm(seg.file, { force: true });
    this.sealedSegments.splice(i, 1);
    this.sealedBytes -= seg.bytes;
  }

  private async syncDir(): Promise<void> {
    const fd = fs.openSync(this.options.dir, 'r');
    try {
      await fsyncFd(fd);
    } catch {
      /* some filesystems refuse fsync on directories */
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Seals what is pending, closes the active segment (removing it when empty) and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.activeFd >= 0) {
      if (this.activeFrames > 0) {
        await this.seal();
      } else {
        fs.closeSync(this.activeFd);
        this.activeFd = -1;
        fs.rmSync(path.join(this.options.dir, segName(this.activeSeq)), { force: true });
        this.activeBytes = 0;
      }
    }
    this.unlock();
  }
}
