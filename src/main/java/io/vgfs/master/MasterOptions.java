package io.vgfs.master;

import java.nio.file.Path;

/**
 * What a master needs to run. Chunk size and replication are cluster-wide: the active master's
 * values are the cluster's.
 *
 * @param dataDir          where the master keeps its id and its operation log
 * @param chunkSize        bytes per chunk
 * @param replication      replicas per chunk
 * @param heartbeatMs      the chunkservers' heartbeat interval
 * @param deadAfterMissed  heartbeats a chunkserver may miss before it is dead
 * @param orphanGraceMs    how long an uncommitted chunk may live before it is collected
 * @param smallFileLimit   largest file the event-bus API reads or writes whole
 * @param checkpointEvery  log records between checkpoints
 * @param replicationTimeoutMs how long a standby may take to acknowledge shipped records before
 *                         it is dropped from the in-sync set
 * @param coldStartWaitMs  in a cold cluster, how long to wait for the other known masters before
 *                         leading without them
 * @param trashRetentionMs how long a deleted file stays restorable
 * @param repairParallelism chunk copies run at once (repair, balancing, draining)
 * @param balanceSpread    tolerated difference in disk use between chunkservers, in percentage
 *                         points
 * @param masterQuorum     masters that must be cluster members for one to become or stay active,
 *                         and that must hold a mutation durably before it is acknowledged
 *                         (1: a lone master may act; a majority of the masters makes partitions
 *                         between master hosts safe)
 */
public record MasterOptions(Path dataDir, long chunkSize, int replication, long heartbeatMs,
                            int deadAfterMissed, long orphanGraceMs, long smallFileLimit,
                            long checkpointEvery, long replicationTimeoutMs, long coldStartWaitMs,
                            long trashRetentionMs, int repairParallelism, double balanceSpread,
                            int masterQuorum) {
}
