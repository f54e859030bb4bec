package io.vgfs.client;

import io.vgfs.protocol.FileInfo;

import java.util.List;

/**
 * One page of a listing.
 *
 * @param files     the files, in path order (without chunks)
 * @param truncated whether more files follow
 * @param next      the value to pass as {@code after} for the next page, or {@code null}
 */
public record ListResult(List<FileInfo> files, boolean truncated, String next) {
}
