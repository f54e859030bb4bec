package io.vgfs.master;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.ChunkRef;
import io.vgfs.protocol.FileInfo;
import io.vgfs.protocol.ServerAddress;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The master's pure logic: namespace, placement, chunk table, server health, metadata records. */
class MasterModelTest {

  private static final long GIB = 1L << 30;

  private static FileInfo file(String path, long... chunkIds) {
    List<ChunkRef> chunks = new ArrayList<>();
    long size = 0;
    for (long id : chunkIds) {
      chunks.add(new ChunkRef(id, 1, 100, 0, null));
      size += 100;
    }
    return new FileInfo(path, "f-" + path, size, 1, 2, 0, chunks);
  }

  private static List<String> paths(Namespace.Page page) {
    return page.files().stream().map(FileInfo::path).toList();
  }

  private static long[] rep(long id, long version, long length) {
    return new long[] {id, version, length};
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("Namespace.list")
  class NamespaceList {

    private Namespace ns() {
      Namespace ns = new Namespace();
      for (String p : List.of("a/1", "a/2", "a/3", "ab", "b/1", "b/2", "a/sub/x", "0")) {
        ns.put(file(p));
      }
      return ns;
    }

    @Test
    @DisplayName("a prefix lists exactly the paths starting with it, in path order")
    void prefix() {
      Namespace ns = ns();
      assertThat(paths(ns.list("a/", null, 100))).containsExactly("a/1", "a/2", "a/3", "a/sub/x");
      assertThat(paths(ns.list("a", null, 100)))
          .containsExactly("a/1", "a/2", "a/3", "a/sub/x", "ab");
      assertThat(paths(ns.list("", null, 100))).hasSize(8).startsWith("0").endsWith("b/2");
      assertThat(paths(ns.list("c/", null, 100))).isEmpty();
      assertThat(ns.list("a/", null, 100).truncated()).isFalse();
    }

    @Test
    @DisplayName("limit cuts the page and sets truncated only when more entries follow")
    void limit() {
      Namespace ns = ns();
      Namespace.Page p = ns.list("a/", null, 2);
      assertThat(paths(p)).containsExactly("a/1", "a/2");
      assertThat(p.truncated()).isTrue();
      Namespace.Page exact = ns.list("a/", null, 4);
      assertThat(paths(exact)).hasSize(4);
      assertThat(exact.truncated()).as("next entry 'ab' is outside the prefix").isFalse();
      Namespace.Page all = ns.list("", null, 8);
      assertThat(all.truncated()).isFalse();
      assertThat(ns.list("", null, 7).truncated()).isTrue();
    }

    @Test
    @DisplayName("after is exclusive and may name a path that does not exist")
    void after() {
      Namespace ns = ns();
      assertThat(paths(ns.list("a/", "a/2", 100))).containsExactly("a/3", "a/sub/x");
      assertThat(paths(ns.list("a/", "a/25", 100))).containsExactly("a/3", "a/sub/x");
      assertThat(paths(ns.list("a/", "a/sub/x", 100))).isEmpty();
      assertThat(paths(ns.list("a/", "z", 100))).isEmpty();
      // An 'after' before the prefix starts at the prefix.
      assertThat(paths(ns.list("b/", "a/2", 100))).containsExactly("b/1", "b/2");
    }

    @Test
    @DisplayName("paging with the last path of each page visits every file once")
    void paging() {
      Namespace ns = new Namespace();
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 57; i++) {
        String p = String.format("logs/%03d", i);
        expected.add(p);
        ns.put(file(p));
      }
      ns.put(file("logz"));
      ns.put(file("log"));
      List<String> seen = new ArrayList<>();
      String after = null;
      int pages = 0;
      while (true) {
        Namespace.Page page = ns.list("logs/", after, 10);
        seen.addAll(paths(page));
        pages++;
        if (!page.truncated()) {
          break;
        }
        after = page.files().get(page.files().size() - 1).path();
      }
      assertThat(seen).containsExactlyElementsOf(expected);
      assertThat(pages).isEqualTo(6);
    }

    @Test
    @DisplayName("put replaces and returns the previous record; remove returns it")
    void putRemove() {
      Namespace ns = new Namespace();
      assertThat(ns.put(file("x", 1))).isNull();
      FileInfo old = ns.put(file("x", 2));
      assertThat(old.chunks()).extracting(ChunkRef::id).containsExactly(1L);
      assertThat(ns.get("x").chunks()).extracting(ChunkRef::id).containsExactly(2L);
      assertThat(ns.size()).isEqualTo(1);
      assertThat(ns.remove("x").chunks()).extracting(ChunkRef::id).containsExactly(2L);
      assertThat(ns.get("x")).isNull();
      assertThat(ns.size()).isZero();
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static ServerState server(String id, long free, String rack) {
    ServerState s = new ServerState(id);
    s.free = free;
    s.capacity = 1000 * GIB;
    s.rack = rack;
    s.address = new ServerAddress(id, "h-" + id, 7000);
    return s;
  }

  private static List<String> ids(List<ServerState> servers) {
    return servers.stream().map(ServerState::id).toList();
  }

  @Nested
  @DisplayName("Placement.choose")
  class Placing {

    @Test
    @DisplayName("distinct servers, most free space first")
    void mostFreeFirst() {
      List<ServerState> c = List.of(server("s1", 10 * GIB, null), server("s2", 50 * GIB, null),
          server("s3", 30 * GIB, null), server("s4", 5 * GIB, null), server("s5", 40 * GIB, null));
      List<ServerState> chosen = Placement.choose(c, 3, Set.of());
      assertThat(ids(chosen)).containsExactly("s2", "s5", "s3");
      assertThat(new HashSet<>(chosen)).hasSize(3);
    }

    @Test
    @DisplayName("free space is compared in whole GiB; fewest recent allocations break ties")
    void gibBuckets() {
      ServerState a = server("a", 10 * GIB + 900 * (1L << 20), null);
      ServerState b = server("b", 10 * GIB + 10 * (1L << 20), null);
      ServerState c = server("c", 10 * GIB, null);
      a.recentAllocations = 2;
      b.recentAllocations = 0;
      c.recentAllocations = 1;
      assertThat(ids(Placement.choose(List.of(a, b, c), 3, Set.of()))).containsExactly("b", "c", "a");
      assertThat(ids(Placement.choose(List.of(a, b, c), 1, Set.of()))).containsExactly("b");
      // Equal everything: by id, so the choice is deterministic.
      a.recentAllocations = 0;
      c.recentAllocations = 0;
      assertThat(ids(Placement.choose(List.of(c, b, a), 3, Set.of()))).containsExactly("a", "b", "c");
      // A whole GiB more wins over fewer allocations.
      ServerState d = server("d", 11 * GIB, null);
      d.recentAllocations = 50;
      assertThat(ids(Placement.choose(List.of(a, b, c, d), 1, Set.of()))).containsExactly("d");
    }

    @Test
    @DisplayName("excluded servers are never chosen")
    void exclusion() {
      List<ServerState> c = List.of(server("s1", 10 * GIB, null), server("s2", 50 * GIB, null),
          server("s3", 30 * GIB, null));
      assertThat(ids(Placement.choose(c, 3, Set.of("s2")))).containsExactly("s3", "s1");
      assertThat(Placement.choose(c, 3, Set.of("s1", "s2", "s3"))).isEmpty();
    }

    @Test
    @DisplayName("fewer than n when there are not enough candidates; n = 0 chooses none")
    void notEnough() {
      List<ServerState> c = List.of(server("s1", 10 * GIB, null), server("s2", 20 * GIB, null));
      assertThat(ids(Placement.choose(c, 3, Set.of()))).containsExactly("s2", "s1");
      assertThat(Placement.choose(List.of(), 3, Set.of())).isEmpty();
      assertThat(Placement.choose(c, 0, Set.of())).isEmpty();
    }

    @Test
    @DisplayName("replicas spread over racks before a rack gets a second one")
    void racks() {
      ServerState a1 = server("a1", 100 * GIB, "r-a");
      ServerState a2 = server("a2", 90 * GIB, "r-a");
      ServerState a3 = server("a3", 80 * GIB, "r-a");
      ServerState b1 = server("b1", 10 * GIB, "r-b");
      ServerState c1 = server("c1", 5 * GIB, "r-c");
      List<ServerState> all = List.of(a1, a2, a3, b1, c1);
      assertThat(ids(Placement.choose(all, 3, Set.of()))).containsExactly("a1", "b1", "c1");
      assertThat(ids(Placement.choose(all, 2, Set.of()))).containsExactly("a1", "b1");
      // More replicas than racks: the rest by free space.
      assertThat(ids(Placement.choose(all, 4, Set.of()))).containsExactly("a1", "b1", "c1", "a2");
      // Two racks only.
      assertThat(ids(Placement.choose(List.of(a1, a2, a3, b1), 3, Set.of())))
          .containsExactly("a1", "b1", "a2");
      // Excluding a rack's only server leaves the other racks.
      assertThat(ids(Placement.choose(all, 3, Set.of("b1")))).containsExactly("a1", "c1", "a2");
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("ChunkTable")
  class Chunks {

    private static final long GRACE = TimeUnit.MINUTES.toNanos(10);

    @Test
    @DisplayName("addFile records chunks with the acknowledged replicas")
    void addFile() {
      ChunkTable t = new ChunkTable();
      t.addFile(file("f", 1, 2), List.of(List.of("s1", "s2"), List.of("s2", "s3")));
      assertThat(t.size()).isEqualTo(2);
      assertThat(t.committed(1)).isTrue();
      assertThat(t.committed(3)).isFalse();
      assertThat(t.get(1).replicas()).containsExactly("s1", "s2");
      assertThat(t.get(2).replicas()).containsExactly("s2", "s3");
      assertThat(t.get(1).version()).isEqualTo(1);
      // Loaded from the log: no locations until reports come.
      ChunkTable loaded = new ChunkTable();
      loaded.addFile(file("f", 1, 2));
      assertThat(loaded.get(1).replicas()).isEmpty();
    }

    @Test
    @DisplayName("removeFile forgets the chunks and queues deletions on their replicas' servers")
    void removeFile() {
      ChunkTable t = new ChunkTable();
      FileInfo f = file("f", 1, 2);
      t.addFile(f, List.of(List.of("s1", "s2"), List.of("s2", "s3")));
      t.addFile(file("g", 9), List.of(List.of("s1")));
      t.removeFile(f);
      assertThat(t.committed(1)).isFalse();
      assertThat(t.committed(2)).isFalse();
      assertThat(t.size()).isEqualTo(1);
      assertThat(t.takeDeletions("s1", 100)).containsExactly(1L);
      assertThat(t.takeDeletions("s2", 100)).containsExactly(1L, 2L);
      assertThat(t.takeDeletions("s3", 100)).containsExactly(2L);
      // Taken means gone from the queue.
      assertThat(t.takeDeletions("s2", 100)).isEmpty();
      assertThat(t.takeDeletions("nobody", 100)).isEmpty();
      // The chunk of the other file is untouched.
      assertThat(t.get(9).replicas()).containsExactly("s1");
    }

    @Test
    @DisplayName("pendingDeletions counts deletions queued and sent until confirmed, or a minute old")
    void pendingDeletions() {
      ChunkTable t = new ChunkTable();
      FileInfo f = file("f", 1, 2);
      t.addFile(f, List.of(List.of("s1", "s2"), List.of("s2", "s3")));
      long now = System.nanoTime();
      assertThat(t.pendingDeletions(now)).isZero();
      t.removeFile(f);
      assertThat(t.pendingDeletions(now)).isEqualTo(4);
      assertThat(t.takeDeletions("s2", 100, now)).containsExactly(1L, 2L);
      assertThat(t.pendingDeletions(now)).as("sent, not confirmed").isEqualTo(4);
      t.confirmDeleted("s2", List.of(1L));
      assertThat(t.pendingDeletions(now)).isEqualTo(3);
      // A confirmation that never comes stops counting after a minute.
      assertThat(t.pendingDeletions(now + 61_000_000_000L)).isEqualTo(2);
      t.takeDeletions("s1", 100, now);
      t.takeDeletions("s3", 100, now);
      t.confirmDeleted("s1", List.of(1L));
      t.confirmDeleted("s3", List.of(2L));
      t.confirmDeleted("s2", List.of(2L));
      assertThat(t.pendingDeletions(now)).isZero();
    }

    @Test
    @DisplayName("takeDeletions hands out at most max per call, in queue order")
    void takeDeletionsMax() {
      ChunkTable t = new ChunkTable();
      long[] ids = new long[25];
      List<List<String>> acked = new ArrayList<>();
      for (int i = 0; i < ids.length; i++) {
        ids[i] = 100 + i;
        acked.add(List.of("s1"));
      }
      FileInfo f = file("f", ids);
      t.addFile(f, acked);
      t.removeFile(f);
      List<Long> first = t.takeDeletions("s1", 10);
      List<Long> second = t.takeDeletions("s1", 10);
      List<Long> third = t.takeDeletions("s1", 10);
      assertThat(first).hasSize(10).startsWith(100L);
      assertThat(second).hasSize(10);
      assertThat(third).hasSize(5).endsWith(124L);
      Set<Long> all = new HashSet<>(first);
      all.addAll(second);
      all.addAll(third);
      assertThat(all).hasSize(25);
      assertThat(t.takeDeletions("s1", 10)).isEmpty();
    }

    @Test
    @DisplayName("report: a matching version adds the location, stale version or wrong length is deleted")
    void reportReconciles() {
      ChunkTable t = new ChunkTable();
      t.addFile(new FileInfo("f", "id", 300, 0, 0, 0,
          List.of(new ChunkRef(1, 2, 100, 0, null), new ChunkRef(2, 1, 200, 0, null))), null);
      t.report("s1", List.of(rep(1, 2, 100), rep(2, 1, 200)), 0);
      t.report("s2", List.of(rep(1, 1, 100)), 0);    // stale version
      t.report("s3", List.of(rep(1, 2, 99)), 0);     // wrong length
      t.report("s4", List.of(rep(2, 1, 200)), 0);
      assertThat(t.get(1).replicas()).containsExactly("s1");
      assertThat(t.get(2).replicas()).containsExactly("s1", "s4");
      assertThat(t.takeDeletions("s1", 10)).isEmpty();
      assertThat(t.takeDeletions("s2", 10)).containsExactly(1L);
      assertThat(t.takeDeletions("s3", 10)).containsExactly(1L);
      assertThat(t.takeDeletions("s4", 10)).isEmpty();
    }

    @Test
    @DisplayName("report: a server's locations become exactly what it reports")
    void reportReplaces() {
      ChunkTable t = new ChunkTable();
      t.addFile(file("f", 1, 2), List.of(List.of("s1"), List.of("s1")));
      t.report("s1", List.<long[]>of(rep(2, 1, 100)), 0);
      assertThat(t.get(1).replicas()).isEmpty();
      assertThat(t.get(2).replicas()).containsExactly("s1");
      t.report("s1", List.of(), 0);
      assertThat(t.get(2).replicas()).isEmpty();
      assertThat(t.removeServer("s1")).isZero();
    }

    @Test
    @DisplayName("unknown chunks become orphans, deleted only after expire() past the grace")
    void orphans() {
      ChunkTable t = new ChunkTable();
      t.report("s1", List.<long[]>of(rep(77, 1, 10)), 1_000);
      t.expire(1_000 + GRACE, GRACE);
      assertThat(t.takeDeletions("s1", 10)).as("exactly at the grace").isEmpty();
      // A later report keeps the first-seen time.
      t.report("s1", List.<long[]>of(rep(77, 1, 10)), 1_000 + GRACE);
      t.expire(1_000 + GRACE + 1, GRACE);
      assertThat(t.takeDeletions("s1", 10)).containsExactly(77L);
      // Deleted once, not again.
      t.expire(1_000 + 3 * GRACE, GRACE);
      assertThat(t.takeDeletions("s1", 10)).isEmpty();
    }

    @Test
    @DisplayName("an orphan that is no longer reported, or gets committed, is not deleted")
    void orphansResolved() {
      ChunkTable t = new ChunkTable();
      t.report("s1", List.of(rep(77, 1, 100), rep(78, 1, 100)), 0);
      // 77 disappears from the next report; 78 gets committed by a late commit.
      t.report("s1", List.<long[]>of(rep(78, 1, 100)), 10);
      t.addFile(file("late", 78), List.of(List.of("s1")));
      t.expire(10 * GRACE, GRACE);
      assertThat(t.takeDeletions("s1", 10)).isEmpty();
      assertThat(t.get(78).replicas()).containsExactly("s1");
    }

    @Test
    @DisplayName("chunks of pending allocations are not orphans, even after the grace")
    void pendingNotOrphans() {
      ChunkTable t = new ChunkTable();
      t.allocated(55, List.of("s1", "s2"), 0);
      t.report("s1", List.<long[]>of(rep(55, 1, 100)), 5);
      t.expire(GRACE, GRACE);
      assertThat(t.takeDeletions("s1", 10)).isEmpty();
      // Committed in time: never deleted, location from the acknowledgement.
      t.addFile(file("f", 55), List.of(List.of("s1", "s2")));
      t.expire(100 * GRACE, GRACE);
      assertThat(t.takeDeletions("s1", 10)).isEmpty();
      assertThat(t.takeDeletions("s2", 10)).isEmpty();
      assertThat(t.get(55).replicas()).containsExactly("s1", "s2");
    }

    @Test
    @DisplayName("an allocation that expires unreported is queued for deletion on its servers")
    void expiredAllocationDeleted() {
      ChunkTable t = new ChunkTable();
      t.allocated(66, List.of("s1", "s2"), 0);
      t.allocated(67, List.of("s1"), GRACE);
      t.expire(GRACE + 1, GRACE);
      assertThat(t.takeDeletions("s1", 10)).as("67 is still within its grace").containsExactly(66L);
      assertThat(t.takeDeletions("s2", 10)).containsExactly(66L);
      // Expired once, deleted once.
      t.expire(GRACE + 2, GRACE);
      assertThat(t.takeDeletions("s2", 10)).isEmpty();
    }

    @Test
    @DisplayName("a commit that lands after expiry but before the deletion is handed out keeps the chunk")
    void lateCommitBeforeDeletionSent() {
      ChunkTable t = new ChunkTable();
      t.allocated(68, List.of("s1", "s2"), 0);
      t.expire(GRACE + 1, GRACE);
      t.addFile(file("slow-upload", 68), List.of(List.of("s1")));
      assertThat(t.takeDeletions("s1", 10)).as("s1 holds a committed replica").isEmpty();
      assertThat(t.takeDeletions("s2", 10)).as("s2 was not acknowledged").containsExactly(68L);
      assertThat(t.get(68).replicas()).containsExactly("s1");
    }

    @Test
    @DisplayName("an upload that keeps allocating keeps its earlier chunks alive; expired ones are remembered")
    void progressingUploadRenewsItsChunks() {
      ChunkTable t = new ChunkTable();
      t.allocated(70, List.of("s1"), 0, "up-1");
      t.allocated(71, List.of("s1"), GRACE - 1, "up-1"); // renews 70
      t.expire(GRACE + 5, GRACE);
      assertThat(t.takeDeletions("s1", 10)).isEmpty();
      assertThat(t.expired(70)).isFalse();
      t.expire(3 * GRACE, GRACE); // the upload stalled
      assertThat(t.takeDeletions("s1", 10)).containsExactlyInAnyOrder(70L, 71L);
      assertThat(t.expired(70)).isTrue();
      assertThat(t.expired(71)).isTrue();
    }

    @Test
    @DisplayName("after its allocation expired, a reported chunk becomes an orphan like any other")
    void expiredAllocationThenReported() {
      ChunkTable t = new ChunkTable();
      t.allocated(66, List.of("s1"), 0);
      t.expire(GRACE + 1, GRACE);
      t.report("s1", List.<long[]>of(rep(66, 1, 100)), GRACE + 2);
      t.expire(2 * GRACE + 3, GRACE);
      assertThat(t.takeDeletions("s1", 10)).containsExactly(66L);
    }

    @Test
    @DisplayName("a queued deletion is not handed out if the server again holds a live replica")
    void deletionSkippedWhenLive() {
      ChunkTable t = new ChunkTable();
      t.addFile(new FileInfo("f", "id", 100, 0, 0, 0, List.of(new ChunkRef(1, 2, 100, 0, null))),
          null);
      t.report("s1", List.<long[]>of(rep(1, 1, 100)), 0); // stale: queued
      t.report("s1", List.<long[]>of(rep(1, 2, 100)), 1); // re-replicated since: live
      assertThat(t.get(1).replicas()).containsExactly("s1");
      assertThat(t.takeDeletions("s1", 10)).isEmpty();
    }

    @Test
    @DisplayName("dropReplica and removeServer forget locations")
    void dropAndRemove() {
      ChunkTable t = new ChunkTable();
      t.addFile(file("f", 1, 2), List.of(List.of("s1", "s2"), List.of("s1")));
      assertThat(t.dropReplica(1, "s2")).isTrue();
      assertThat(t.dropReplica(1, "s2")).isFalse();
      assertThat(t.dropReplica(99, "s1")).isFalse();
      assertThat(t.takeDeletions("s2", 10)).containsExactly(1L);
      assertThat(t.removeServer("s1")).isEqualTo(2);
      assertThat(t.get(1).replicas()).isEmpty();
      assertThat(t.get(2).replicas()).isEmpty();
      assertThat(t.removeServer("s1")).isZero();
    }

    @Test
    @DisplayName("underReplicated counts chunks with fewer live replicas than asked")
    void underReplicated() {
      ChunkTable t = new ChunkTable();
      t.addFile(file("f", 1, 2, 3),
          List.of(List.of("s1", "s2", "s3"), List.of("s1", "s2"), List.of()));
      assertThat(t.underReplicated(3, Set.of("s1", "s2", "s3"))).isEqualTo(2);
      assertThat(t.underReplicated(2, Set.of("s1", "s2", "s3"))).isEqualTo(1);
      assertThat(t.underReplicated(2, Set.of("s1", "s3"))).isEqualTo(2);
      assertThat(t.underReplicated(1, Set.of())).isEqualTo(3);
      assertThat(t.underReplicated(0, Set.of())).isZero();
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("ServerRegistry health")
  class Health {

    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    private JsonObject hb(String id, String node) {
      return new JsonObject().put("id", id).put("host", "h-" + id).put("port", 7001)
          .put("nodeId", node).put("free", 5 * GIB).put("capacity", 10 * GIB).put("used", GIB)
          .put("chunkCount", 3).put("rack", "r1");
    }

    @Test
    @DisplayName("ALIVE, SUSPECT after 1.5 intervals, DEAD after deadAfter intervals")
    void thresholds() {
      ServerRegistry reg = new ServerRegistry(1000, 5);
      long t0 = 1_000_000_000L;
      ServerState s = reg.update(hb("s1", "n1"), t0);
      assertThat(reg.health(s, t0)).isEqualTo(ServerState.Health.ALIVE);
      assertThat(reg.health(s, t0 + 1500 * MS)).isEqualTo(ServerState.Health.ALIVE);
      assertThat(reg.health(s, t0 + 1500 * MS + 1)).isEqualTo(ServerState.Health.SUSPECT);
      assertThat(reg.health(s, t0 + 5000 * MS)).isEqualTo(ServerState.Health.SUSPECT);
      assertThat(reg.health(s, t0 + 5000 * MS + 1)).isEqualTo(ServerState.Health.DEAD);
      // A heartbeat brings it back.
      reg.update(new JsonObject().put("id", "s1"), t0 + 6000 * MS);
      assertThat(reg.health(s, t0 + 6000 * MS)).isEqualTo(ServerState.Health.ALIVE);
    }

    @Test
    @DisplayName("update keeps what a heartbeat does not carry and resets recent allocations")
    void update() {
      ServerRegistry reg = new ServerRegistry(1000, 5);
      ServerState s = reg.update(hb("s1", "n1"), 0);
      s.recentAllocations = 4;
      reg.update(new JsonObject().put("id", "s1").put("free", 4 * GIB), 10);
      assertThat(reg.get("s1")).isSameAs(s);
      assertThat(s.free()).isEqualTo(4 * GIB);
      assertThat(s.capacity()).isEqualTo(10 * GIB);
      assertThat(s.used()).isEqualTo(GIB);
      assertThat(s.rack()).isEqualTo("r1");
      assertThat(s.address()).isEqualTo(new ServerAddress("s1", "h-s1", 7001));
      assertThat(s.recentAllocations).isZero();
      assertThat(s.usage()).isEqualTo(0.6);
    }

    @Test
    @DisplayName("nodeLeft makes the node's servers DEAD at once, until they register again")
    void nodeLeft() {
      ServerRegistry reg = new ServerRegistry(1000, 5);
      ServerState s1 = reg.update(hb("s1", "n1"), 0);
      ServerState s2 = reg.update(hb("s2", "n1"), 0);
      ServerState s3 = reg.update(hb("s3", "n2"), 0);
      assertThat(reg.nodeLeft("n1")).containsExactlyInAnyOrder("s1", "s2");
      assertThat(reg.nodeLeft("n1")).as("reported once").isEmpty();
      assertThat(reg.health(s1, 0)).isEqualTo(ServerState.Health.DEAD);
      assertThat(reg.health(s2, 0)).isEqualTo(ServerState.Health.DEAD);
      assertThat(reg.health(s3, 0)).isEqualTo(ServerState.Health.ALIVE);
      reg.update(hb("s1", "n3"), 1);
      assertThat(reg.health(s1, 1)).isEqualTo(ServerState.Health.ALIVE);
    }

    @Test
    @DisplayName("writable wants ALIVE, readable accepts SUSPECT; neither takes DEAD or unaddressed")
    void writableReadable() {
      ServerRegistry reg = new ServerRegistry(1000, 5);
      reg.update(hb("alive", "n1"), 10_000 * MS);
      reg.update(hb("suspect", "n1"), 8_000 * MS);
      reg.update(hb("dead", "n1"), 0);
      reg.update(new JsonObject().put("id", "noaddr"), 10_000 * MS);
      long now = 10_000 * MS;
      assertThat(ids(reg.writable(now))).containsExactly("alive");
      assertThat(reg.readable(now)).containsExactlyInAnyOrder("alive", "suspect");
    }

    @Test
    @DisplayName("forNewChunk takes alive servers first and suspect ones only to make up the number")
    void forNewChunk() {
      ServerRegistry reg = new ServerRegistry(1000, 5);
      reg.update(hb("a1", "n1"), 10_000 * MS);
      reg.update(hb("a2", "n2"), 10_000 * MS);
      reg.update(hb("a3", "n3"), 10_000 * MS);
      reg.update(hb("late", "n4"), 8_000 * MS);
      reg.update(hb("dead", "n5"), 0);
      long now = 10_000 * MS;
      assertThat(ids(reg.forNewChunk(now, 3, Set.of()))).containsExactlyInAnyOrder("a1", "a2", "a3");
      assertThat(ids(reg.forNewChunk(now, 3, Set.of("a2")))).containsExactly("a1", "a3", "late");
      assertThat(ids(reg.forNewChunk(now, 3, Set.of("a1", "a2", "late")))).containsExactly("a3");
      assertThat(ids(reg.forNewChunk(now, 5, Set.of()))).hasSize(4).doesNotContain("dead");
    }

    @Test
    @DisplayName("newlyDead reports a server once, and again only after it came back")
    void newlyDead() {
      ServerRegistry reg = new ServerRegistry(1000, 2);
      reg.update(hb("s1", "n1"), 0);
      Set<String> dead = new HashSet<>();
      assertThat(reg.newlyDead(1000 * MS, dead)).isEmpty();
      assertThat(reg.newlyDead(3000 * MS, dead)).containsExactly("s1");
      assertThat(reg.newlyDead(4000 * MS, dead)).isEmpty();
      reg.update(hb("s1", "n1"), 5000 * MS);
      assertThat(reg.newlyDead(5000 * MS, dead)).isEmpty();
      assertThat(dead).isEmpty();
      assertThat(reg.newlyDead(8000 * MS, dead)).containsExactly("s1");
    }

    @Test
    @DisplayName("statusJson describes each server")
    void status() {
      ServerRegistry reg = new ServerRegistry(1000, 5);
      reg.update(hb("s1", "n1"), 0);
      JsonArray arr = reg.statusJson(2000 * MS);
      assertThat(arr.size()).isEqualTo(1);
      JsonObject j = arr.getJsonObject(0);
      assertThat(j.getString("state")).isEqualTo("suspect");
      assertThat(j.getBoolean("alive")).isTrue();
      assertThat(j.getLong("lastHeartbeatAgeMs")).isEqualTo(2000);
      assertThat(j.getString("rack")).isEqualTo("r1");
      assertThat(j.getInteger("chunks")).isEqualTo(3);
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Nested
  @DisplayName("MetadataState.apply")
  class Records {

    private JsonObject put(FileInfo f) {
      return new JsonObject().put("op", "put").put("file", f.toJson());
    }

    @Test
    @DisplayName("put creates a file and registers its chunks")
    void putCreates() {
      MetadataState st = new MetadataState();
      FileInfo f = file("dir/a", 1, 2);
      assertThat(st.apply(put(f), List.of(List.of("s1"), List.of("s2")))).isNull();
      assertThat(st.namespace().get("dir/a")).isEqualTo(f);
      assertThat(st.chunks().committed(1)).isTrue();
      assertThat(st.chunks().get(2).replicas()).containsExactly("s2");
    }

    @Test
    @DisplayName("put over an existing path returns the old file and queues its chunks for deletion")
    void putReplaces() {
      MetadataState st = new MetadataState();
      FileInfo v1 = file("a", 1, 2);
      FileInfo v2 = file("a", 3);
      st.apply(put(v1), List.of(List.of("s1", "s2"), List.of("s2")));
      FileInfo old = st.apply(put(v2), List.of(List.of("s3")));
      assertThat(old).isEqualTo(v1);
      assertThat(st.namespace().get("a")).isEqualTo(v2);
      assertThat(st.namespace().size()).isEqualTo(1);
      assertThat(st.chunks().committed(1)).isFalse();
      assertThat(st.chunks().committed(2)).isFalse();
      assertThat(st.chunks().committed(3)).isTrue();
      assertThat(st.chunks().takeDeletions("s1", 10)).containsExactly(1L);
      assertThat(st.chunks().takeDeletions("s2", 10)).containsExactly(1L, 2L);
      assertThat(st.chunks().takeDeletions("s3", 10)).isEmpty();
    }

    @Test
    @DisplayName("delete moves the file to the trash (chunks kept); purge queues its chunks; a missing path is a no-op")
    void delete() {
      MetadataState st = new MetadataState();
      FileInfo f = file("a", 1);
      st.apply(put(f), List.of(List.of("s1")));
      assertThat(st.apply(delete("a", "t1"))).isEqualTo(f);
      assertThat(st.namespace().get("a")).isNull();
      assertThat(st.trash().get("t1").file()).isEqualTo(f);
      assertThat(st.chunks().size()).isEqualTo(1);
      assertThat(st.chunks().takeDeletions("s1", 10)).isEmpty();
      assertThat(st.apply(new JsonObject().put("op", "purge").put("id", "t1"))).isEqualTo(f);
      assertThat(st.chunks().size()).isZero();
      assertThat(st.chunks().takeDeletions("s1", 10)).containsExactly(1L);
      assertThat(st.apply(delete("a", "t2"))).isNull();
    }

    @Test
    @DisplayName("a chunk shared by a file and a snapshot goes only when neither holds it")
    void sharedChunks() {
      MetadataState st = new MetadataState();
      FileInfo f = file("a", 7);
      st.apply(put(f), List.of(List.of("s1")));
      java.util.TreeMap<String, FileInfo> files = new java.util.TreeMap<>();
      files.put("a", f);
      st.apply(new JsonObject().put("op", "snapshot").put("snapshot",
          new Snapshots.Snapshot("snap", "", 1L, files).toJson()));
      assertThat(st.chunks().get(7).refs()).isEqualTo(2);
      st.apply(put(file("a", 8)), List.of(List.of("s1")));
      assertThat(st.chunks().committed(7)).isTrue();
      assertThat(st.chunks().takeDeletions("s1", 10)).isEmpty();
      st.apply(new JsonObject().put("op", "snapshot-delete").put("name", "snap"));
      assertThat(st.chunks().committed(7)).isFalse();
      assertThat(st.chunks().takeDeletions("s1", 10)).containsExactly(7L);
    }

    @Test
    @DisplayName("epoch only grows")
    void epoch() {
      MetadataState st = new MetadataState();
      assertThat(st.epoch()).isZero();
      st.apply(new JsonObject().put("op", "epoch").put("epoch", 3L).put("master", "m1"));
      assertThat(st.epoch()).isEqualTo(3);
      st.apply(new JsonObject().put("op", "epoch").put("epoch", 2L).put("master", "m2"));
      assertThat(st.epoch()).isEqualTo(3);
      st.apply(new JsonObject().put("op", "epoch").put("epoch", 4L));
      assertThat(st.epoch()).isEqualTo(4);
      assertThat(st.checkpointHeader().getLong("epoch")).isEqualTo(4L);
    }

    private JsonObject delete(String path, String id) {
      return new JsonObject().put("op", "delete").put("path", path).put("id", id).put("at", 1L);
    }

    @Test
    @DisplayName("an unknown op is refused")
    void unknownOp() {
      MetadataState st = new MetadataState();
      assertThatThrownBy(() -> st.apply(new JsonObject().put("op", "teleport")))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("teleport");
    }

    @Test
    @DisplayName("replaying the same records gives the same state; load() replaces everything")
    void replayAndLoad() {
      List<JsonObject> log = List.of(
          new JsonObject().put("op", "epoch").put("epoch", 1L),
          put(file("a", 1)), put(file("b", 2, 3)), put(file("a", 4)),
          delete("b", "t-b"), new JsonObject().put("op", "purge").put("id", "t-b"),
          put(file("c", 5)));
      MetadataState st = new MetadataState();
      log.forEach(r -> st.apply(r.copy()));
      assertThat(st.namespace().snapshot()).extracting(FileInfo::path).containsExactly("a", "c");
      assertThat(st.chunks().size()).isEqualTo(2);
      assertThat(st.chunks().committed(4)).isTrue();
      assertThat(st.chunks().committed(5)).isTrue();

      MetadataState loaded = new MetadataState();
      loaded.apply(put(file("zzz", 99)));
      loaded.load(st.checkpointHeader(),
          st.namespace().snapshot().stream().map(FileInfo::toJson).toList());
      assertThat(loaded.epoch()).isEqualTo(1);
      assertThat(loaded.namespace().snapshot()).containsExactlyElementsOf(st.namespace().snapshot());
      assertThat(loaded.chunks().committed(99)).isFalse();
      assertThat(loaded.chunks().committed(4)).isTrue();
    }
  }

  @Test
  @DisplayName("the trash hands out its expired entries oldest first, at most a batch, never a young one")
  void trashExpiredBatches() {
    Trash trash = new Trash();
    java.util.Random rnd = new java.util.Random(7);
    List<Long> times = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      long at = rnd.nextInt(1_000);
      times.add(at);
      trash.add(new Trash.Entry("d-" + i, at, file("/t/f" + i)));
    }
    List<Long> old = times.stream().filter(t -> t < 600).sorted().toList();

    List<Trash.Entry> batch = trash.expired(600, 100);
    assertThat(batch).hasSize(100);
    assertThat(batch.stream().map(Trash.Entry::deletedAt).toList()).isEqualTo(old.subList(0, 100));

    int purged = 0;
    for (List<Trash.Entry> b = batch; !b.isEmpty(); b = trash.expired(600, 100)) {
      b.forEach(e -> trash.remove(e.id()));
      purged += b.size();
    }
    assertThat(purged).isEqualTo(old.size());
    assertThat(trash.size()).isEqualTo(500 - old.size());
    assertThat(trash.snapshot()).allSatisfy(e -> assertThat(e.deletedAt()).isGreaterThanOrEqualTo(600));
    assertThat(trash.expired(600, 0)).isEmpty();
  }
}
