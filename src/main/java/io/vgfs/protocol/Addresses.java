package io.vgfs.protocol;

/**
 * Every event-bus address vgfs uses, with the JSON each one takes and answers. Failures are
 * always a failed reply: {@code ReplyException.failureCode()} is an {@link ErrorCode#code()} and
 * the message says what went wrong; a sender never has to wait out a timeout to learn of one.
 *
 * <h2>Master (internal; served only by the active master)</h2>
 * <table>
 *   <tr><th>address</th><th>request</th><th>reply</th></tr>
 *   <tr><td>{@link #INFO}</td><td>{@code {}}</td>
 *       <td>{@code {masterId, epoch, chunkSize, replication, smallFileLimit}}</td></tr>
 *   <tr><td>{@link #ALLOCATE}</td><td>{@code {path, upload?, exclude?: [serverId]}}: each
 *       allocation for an upload id keeps that upload's earlier chunks from expiring</td>
 *       <td>{@link Allocation}</td></tr>
 *   <tr><td>{@link #COMMIT}</td>
 *       <td>{@code {path, id, size, crc32c, chunks: [ChunkRef without replicas],
 *           replicas: [[serverId]] (per chunk, who acknowledged it), ifMatch?, ifNoneMatch?}};
 *           a condition that does not hold fails with {@code PRECONDITION_FAILED}</td>
 *       <td>{@link FileInfo}</td></tr>
 *   <tr><td>{@link #LOOKUP}</td><td>{@code {path, snapshot?}}</td>
 *       <td>{@link FileInfo} with chunks and their live replicas</td></tr>
 *   <tr><td>{@link #STAT}</td><td>{@code {path}}</td><td>{@link FileInfo} without chunks</td></tr>
 *   <tr><td>{@link #LIST}</td><td>{@code {prefix, after?, limit?, snapshot?}}</td>
 *       <td>{@code {prefix, page, truncated, next?}}: {@code page} is a {@link ListPage} (binary,
 *           base64 in the JSON)</td></tr>
 *   <tr><td>{@link #DELETE}</td><td>{@code {path}}</td><td>{@code {path, deleted: true}}</td></tr>
 *   <tr><td>{@link #STATUS}</td><td>{@code {}}</td>
 *       <td>{@code {masters, chunkservers, files, chunks, underReplicatedChunks, ...}}</td></tr>
 *   <tr><td>{@link #REGISTER}</td>
 *       <td>{@code {id, host, port, rack?, capacity, free, used, chunks: [[id, version, length]]}}</td>
 *       <td>{@code {epoch, masterId, chunkSize}}</td></tr>
 *   <tr><td>{@link #HEARTBEAT}</td><td>{@code {id, free, used, chunkCount, activeWrites}}</td>
 *       <td>{@code {epoch, register: bool, delete: [chunkId]}}</td></tr>
 *   <tr><td>{@link #REPORT_BAD_REPLICA}</td><td>{@code {chunk, server, reason}}</td>
 *       <td>{@code {}}</td></tr>
 *   <tr><td>{@link #TRASH_LIST}</td><td>{@code {prefix?}}</td>
 *       <td>{@code {files: [{path, id, size, deletedAt, purgeAt}]}}</td></tr>
 *   <tr><td>{@link #TRASH_RESTORE}</td><td>{@code {path, id?}}</td>
 *       <td>{@link FileInfo}: the restored file (the latest deleted version unless {@code id})</td></tr>
 *   <tr><td>{@link #RENAME}</td><td>{@code {from, to, overwrite?}}: a file, or every file under
 *       the directory {@code from}, atomically</td><td>{@code {moved: n}}</td></tr>
 *   <tr><td>{@link #APPEND_LOCATE}</td><td>{@code {path, requestId, length, ifMatch?,
 *       ifNoneMatch?, full?: chunk, failed?: [serverId]}}</td>
 *       <td>{@code {done: true, offset, size}} when the request id already landed, else where to
 *       append: {@code {chunk, version, epoch, primary: ServerAddress, maxRecord}}</td></tr>
 *   <tr><td>{@link #APPEND_REPORT} (from a primary)</td><td>{@code {path, fileId, chunk, version,
 *       server, length, crc32c, records: [{id, offset, length, ifMatch?}]}}</td>
 *       <td>{@code {fileOffset, leaseMs, results: [{offset, size} | {error, message}]}}</td></tr>
 *   <tr><td>{@link #SNAPSHOT_CREATE}</td><td>{@code {name, source}}</td>
 *       <td>{@code {name, source, createdAt, files, bytes}}</td></tr>
 *   <tr><td>{@link #SNAPSHOT_LIST}</td><td>{@code {}}</td><td>{@code {snapshots: [...]}}</td></tr>
 *   <tr><td>{@link #SNAPSHOT_DELETE}</td><td>{@code {name}}</td><td>{@code {name, deleted}}</td></tr>
 *   <tr><td>{@link #DRAIN}</td><td>{@code {server, drain: bool}}</td>
 *       <td>{@code {server, draining, remaining}}</td></tr>
 * </table>
 *
 * <h2>Chunkserver commands (served by chunkserver {@code id} at {@link #chunkserver(String)})</h2>
 * <table>
 *   <tr><th>request</th><th>reply</th></tr>
 *   <tr><td>{@code {op: "replicate", chunk, version, epoch, target: ServerAddress}}: copy the
 *       local replica to {@code target} over the data protocol (rate-limited)</td>
 *       <td>{@code {chunk, bytes}} once the target has it on disk</td></tr>
 * </table>
 *
 * <h2>Between masters</h2>
 * <table>
 *   <tr><th>address</th><th>request</th><th>reply</th></tr>
 *   <tr><td>{@link #FOLLOW} (served by the active master)</td><td>{@code {masterId, epoch}}: a
 *       standby asks to receive the log</td>
 *       <td>{@code {masterId, epoch, seq}}: records after {@code seq} will be shipped</td></tr>
 *   <tr><td>{@link #FOLLOW_STATE vgfs.master.follow.state.&lt;id&gt;} (served by the active
 *       master)</td><td>{@code {masterId, epoch, seq, page}}: a standby fetches the state the
 *       active held at {@code seq}, when it was asked to follow, {@code 1000} entries a page</td>
 *       <td>{@code {header, entries: [checkpoint entry], last}}</td></tr>
 *   <tr><td>{@link #replicaOf(String) vgfs.master.replica.&lt;id&gt;} (served by that standby)</td>
 *       <td>{@code {epoch, from, seq, records: [log record with seq]}}; an empty batch is a ping</td>
 *       <td>{@code {seq: last record durable here, ready}}; {@code ready} once the standby holds
 *       the whole state and its log continues the active's</td></tr>
 *   <tr><td>{@link #positionsOf(String) vgfs.master.positions.&lt;node&gt;} (served by the master
 *       on that cluster node)</td>
 *       <td>{@code {masterId}}: with a master quorum, a standby about to take over asks every
 *       other master how far its log goes</td>
 *       <td>{@code {masterId, nodeId, epoch, seq}}</td></tr>
 * </table>
 * Every message between masters carries the sender's epoch; a receiver that has seen a newer one
 * fails it with {@link ErrorCode#STALE_EPOCH}, and a master that learns of a newer epoch steps down.
 *
 * <h2>Public API for Vert.x applications without the Java client</h2>
 * Served by every gateway process (and {@code vgfs dev}). Small files only: bulk bytes never
 * travel on the event bus, so {@link #API_READ} and {@link #API_WRITE} refuse files larger than the
 * configured limit (default 4 MiB) with {@link ErrorCode#TOO_LARGE}; use the streaming client.
 * <table>
 *   <tr><th>address</th><th>request</th><th>reply</th></tr>
 *   <tr><td>{@link #API_STAT}</td><td>{@code {path}}</td><td>{@link FileInfo} summary</td></tr>
 *   <tr><td>{@link #API_LIST}</td><td>{@code {prefix, after?, limit?}}</td>
 *       <td>{@code {files: [FileInfo summary], truncated, next?}}</td></tr>
 *   <tr><td>{@link #API_DELETE}</td><td>{@code {path}}</td><td>{@code {path, deleted}}</td></tr>
 *   <tr><td>{@link #API_READ}</td><td>{@code {path}}</td>
 *       <td>the content as a {@code Buffer}; headers {@code path}, {@code size}, {@code etag}</td></tr>
 *   <tr><td>{@link #API_WRITE}</td><td>a {@code Buffer} with the content; header {@code path}</td>
 *       <td>{@link FileInfo} summary</td></tr>
 * </table>
 *
 * <h2>Broadcasts</h2>
 * {@link #MASTER_ANNOUNCE} is published by a master when it becomes active:
 * {@code {masterId, epoch}}; chunkservers answer it by registering again.
 */
public final class Addresses {

  private Addresses() {
  }

  public static final String INFO = "vgfs.master.info";
  public static final String ALLOCATE = "vgfs.master.allocate";
  public static final String COMMIT = "vgfs.master.commit";
  public static final String LOOKUP = "vgfs.master.lookup";
  public static final String STAT = "vgfs.master.stat";
  public static final String LIST = "vgfs.master.list";
  public static final String DELETE = "vgfs.master.delete";
  public static final String STATUS = "vgfs.master.status";
  public static final String REGISTER = "vgfs.master.register";
  public static final String HEARTBEAT = "vgfs.master.heartbeat";
  public static final String REPORT_BAD_REPLICA = "vgfs.master.report-bad-replica";
  public static final String MASTER_ANNOUNCE = "vgfs.master.announce";
  public static final String FOLLOW = "vgfs.master.follow";
  /** Suffixed with the active master's id ({@link #ofMaster}). */
  public static final String FOLLOW_STATE = "vgfs.master.follow.state";
  public static final String MASTER_POSITIONS = "vgfs.master.positions";
  public static final String TRASH_LIST = "vgfs.master.trash.list";
  public static final String TRASH_RESTORE = "vgfs.master.trash.restore";
  public static final String DRAIN = "vgfs.master.drain";
  public static final String RENAME = "vgfs.master.rename";
  public static final String APPEND_LOCATE = "vgfs.master.append.locate";
  public static final String APPEND_REPORT = "vgfs.master.append.report";
  public static final String SNAPSHOT_CREATE = "vgfs.master.snapshot.create";
  public static final String SNAPSHOT_LIST = "vgfs.master.snapshot.list";
  public static final String SNAPSHOT_DELETE = "vgfs.master.snapshot.delete";

  /** Where chunkserver {@code serverId} takes commands from the master. */
  public static String chunkserver(String serverId) {
    return "vgfs.chunkserver." + serverId;
  }

  /**
   * {@code address} as served only by master {@code masterId} (for {@link #REGISTER} and
   * {@link #HEARTBEAT}; same messages). Right after a take-over, Vert.x may still route a request
   * for a shared address to the previous master's node until its subscriptions are cleaned up, and
   * a request sent to a hung master is lost until its time-out; a chunkserver that heard a
   * master's announcement therefore talks to that master by name.
   */
  public static String ofMaster(String address, String masterId) {
    return address + "." + masterId;
  }

  /**
   * The address where the master on cluster node {@code nodeId} tells its log position. One
   * address per node, asked node by node, rather than one address published to: Vert.x caches
   * who serves a shared address, and a cache that missed a restarted master's registration kept
   * a candidate waiting for its answer for minutes (seen in MasterQuorumIT). A node's own
   * address is looked up afresh until it is found, and never changes hands.
   */
  public static String positionsOf(String nodeId) {
    return MASTER_POSITIONS + "." + nodeId;
  }

  /** The address where standby {@code masterId} receives the active master's log. */
  public static String replicaOf(String masterId) {
    return "vgfs.master.replica." + masterId;
  }

  public static final String API_STAT = "vgfs.api.stat";
  public static final String API_LIST = "vgfs.api.list";
  public static final String API_DELETE = "vgfs.api.delete";
  public static final String API_READ = "vgfs.api.read";
  public static final String API_WRITE = "vgfs.api.write";
}
