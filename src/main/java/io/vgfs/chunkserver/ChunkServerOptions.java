package io.vgfs.chunkserver;

import java.nio.file.Path;

/**
 * What one chunkserver needs to run.
 *
 * @param dataDir           where its chunks and id live
 * @param bindHost          the interface its data port listens on
 * @param publicHost        the address it tells others to connect to
 * @param port              the data port, 0 for any free one
 * @param rack              failure-domain label, or {@code null}
 * @param heartbeatMs       interval between heartbeats to the master
 */
public record ChunkServerOptions(Path dataDir, String bindHost, String publicHost, int port,
                                 String rack, long heartbeatMs) {
}
