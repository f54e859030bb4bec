package io.vgfs.chunkserver;

import java.nio.file.Path;

/**
 * What one chunkserver needs to run.
 *
 * @param dataDir          where its chunks and id live
 * @param bindHost         the interface its data port listens on
 * @param publicHost       the address it tells others to connect to
 * @param port             the data port, 0 for any free one
 * @param rack             failure-domain label, or {@code null}
 * @param heartbeatMs      interval between heartbeats to the master
 * @param capacity         bytes this server may fill (0: the whole file system); also what disk
 *                         use is measured against when balancing
 * @param reportIntervalMs interval between full chunk reports (0: only when registering)
 * @param scrubRate        bytes per second the scrubber verifies (0: no scrubbing)
 * @param scrubPauseMs     pause between two scrub passes
 * @param repairRate       bytes per second this server sends when copying replicas (0: no limit)
 * @param bufferedSyncMs   interval between the syncs that make chunks acknowledged as BUFFERED
 *                         durable
 * @param checksumAttributes whether new small chunks keep their checksums in an extended
 *                         attribute of the data file where the disk allows ({@link MetaAttribute})
 * @param writeStallMs     how long a copy of a replica to another chunkserver may wait on a
 *                         target that makes no progress (a frozen server) before it fails
 */
public record ChunkServerOptions(Path dataDir, String bindHost, String publicHost, int port,
                                 String rack, long heartbeatMs, long capacity,
                                 long reportIntervalMs, long scrubRate, long scrubPauseMs,
                                 long repairRate, long bufferedSyncMs,
                                 boolean checksumAttributes, long writeStallMs) {
}
