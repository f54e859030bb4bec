package io.vgfs.client;

/**
 * Where an appended record landed.
 *
 * @param offset the file offset of its first byte
 * @param length its length
 * @param size   the file's size once it was appended (its end)
 */
public record AppendResult(long offset, long length, long size) {
}
