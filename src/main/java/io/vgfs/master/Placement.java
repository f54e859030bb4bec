package io.vgfs.master;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Chooses the chunkservers for a new chunk: distinct servers, the ones with the most free space
 * first, and spread over as many racks as there are when servers carry rack labels. Pure logic.
 */
public final class Placement {

  private Placement() {
  }

  /**
   * Picks {@code n} of {@code candidates} (all of them healthy and eligible), never two on one
   * server; fewer than {@code n} when there are not enough candidates.
   */
  public static List<ServerState> choose(List<ServerState> candidates, int n, Set<String> exclude) {
    List<ServerState> sorted = new ArrayList<>();
    for (ServerState s : candidates) {
      if (!exclude.contains(s.id())) {
        sorted.add(s);
      }
    }
    // Most free space first, compared in whole GiB so that servers on equally full disks take
    // turns (fewest recent allocations first) instead of one of them taking every new chunk
    // until its next heartbeat reports the space it lost.
    sorted.sort(Comparator.comparingLong((ServerState s) -> -(s.free() >> 30))
        .thenComparingInt(s -> s.recentAllocations)
        .thenComparing(ServerState::id));
    List<ServerState> chosen = new ArrayList<>(n);
    Set<String> racks = new HashSet<>();
    // First pass: one server per rack; second pass: fill up regardless of rack.
    for (ServerState s : sorted) {
      if (chosen.size() == n) {
        break;
      }
      String rack = s.rack() == null ? "" : s.rack();
      if (racks.add(rack) || s.rack() == null) {
        chosen.add(s);
      }
    }
    for (ServerState s : sorted) {
      if (chosen.size() == n) {
        break;
      }
      if (!chosen.contains(s)) {
        chosen.add(s);
      }
    }
    return chosen;
  }
}
