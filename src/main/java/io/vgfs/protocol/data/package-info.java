/**
 * The chunk data protocol: how chunk bytes travel between clients and chunkservers, over plain
 * TCP ({@code NetSocket}s), never over the event bus.
 *
 * <h2>Frame layout</h2>
 * Every message is a frame with a 12-byte big-endian header:
 * <pre>
 * offset size field
 *  0     1    magic    0xA7
 *  1     1    version  1
 *  2     1    type     {@link io.vgfs.protocol.data.FrameType} code
 *  3     1    flags    0 (reserved)
 *  4     4    length   payload bytes: at most 64 KiB for DATA, 1 MiB for any other type
 *  8     4    crc      CRC32C of the payload
 * 12     n    payload
 * </pre>
 * A receiver closes the connection on any malformed frame (magic, version, type, length over the
 * limit, CRC mismatch), and after sending or receiving an {@code ERROR} frame. Lengths are checked
 * before anything is buffered, so a peer cannot make a receiver hold more than one frame.
 *
 * <h2>Write a chunk (pipelined along the replica chain)</h2>
 * <pre>
 * writer → R1: WRITE_OPEN {chunk, version, epoch, token, durability, chain: [R2, R3]}
 *        R1 → R2: WRITE_OPEN {…, chain: [R3]}          (R2 → R3 likewise)
 * writer → R1: DATA × n   one 64 KiB block each (the last may be shorter); crc = block CRC32C
 *        each replica checks the CRC, writes the block, forwards the frame unchanged downstream
 * writer → R1: WRITE_END {length, crc32c}   (forwarded likewise)
 *        each replica: writes done → fsync (SYNC) → checksums stored → downstream ack received
 * writer ← R1: WRITE_ACK {chunk, length, replicas: [R1, R2, R3]}     or ERROR {code, message}
 * </pre>
 * The connection can carry further exchanges after a WRITE_ACK.
 *
 * <h2>Read a byte range</h2>
 * <pre>
 * reader → S: READ {chunk, version, offset, length, token, epoch}
 * reader ← S: READ_OK {start, count, chunkLen, blockSize, crcs[]}, then count raw bytes
 *             (sent with sendFile, zero-copy)                      or ERROR {code, message}
 * </pre>
 * {@code [start, start + count)} is the block-aligned cover of the request; the reader verifies
 * each block before using it and keeps only the bytes it asked for.
 *
 * <h2>Append a record (through the chunk's primary)</h2>
 * <pre>
 * writer → P: APPEND {chunk, version, epoch, requestId, length, ifMatch?}, then length raw bytes
 *        P orders the record after those before it (records are batched), appends locally, and
 *        P → S: APPEND_FWD {chunk, version, epoch, offset, length}, then the raw bytes
 *        P ← S: APPEND_OK {offset}                 (each secondary appends at exactly offset)
 *        P reports the batch to the master, which makes it part of the file
 * writer ← P: APPEND_OK {offset, size}   or ERROR {CHUNK_FULL | NOT_PRIMARY | STALE_EPOCH | ...}
 * </pre>
 */
package io.vgfs.protocol.data;
