package io.vgfs.master;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import io.vgfs.protocol.ErrorCode;
import io.vgfs.protocol.VgfsException;

import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The active master's state as it was when a standby asked to follow, for the standby to fetch
 * in pages ({@link Addresses#FOLLOW_STATE}) before it applies the records shipped after it.
 *
 * <p>The state is taken in the event-loop turn in which the standby's starting seq is fixed, and
 * a mutation applies and ships its record in one turn, so state and seq agree exactly. Standbys
 * used to load the cluster maps instead, which mutations keep writing while they are read: a
 * rename that had left its old key but not reached its new one was in neither, and the
 * standby's state lacked the file for good. Taking the entries costs no copy (immutable values);
 * a page is encoded when it is asked for. Runs on the master's event loop.
 */
final class StateTransfer {

  static final int PAGE = 1_000;
  private static final long EXPIRE_NANOS = 120_000_000_000L;

  private record Offer(long seq, JsonObject header, List<Object> entries, long bornNanos) {
  }

  private final Map<String, Offer> offers = new HashMap<>();

  /** Keeps {@code state} as it is now, at {@code seq}, for {@code standby}. */
  void offer(String standby, long seq, MetadataState state) {
    offers.put(standby, new Offer(seq, state.checkpointHeader(), state.checkpointEntries(),
        System.nanoTime()));
  }

  /**
   * {@code {masterId, seq, page}} from a standby: {@code {header, entries, last}}, page
   * {@code page} of the state offered at {@code seq}. The offer ends with its last page.
   */
  JsonObject page(JsonObject req) {
    String standby = req.getString("masterId");
    Offer o = standby == null ? null : offers.get(standby);
    long seq = req.getLong("seq", -1L);
    if (o == null || o.seq() != seq) {
      throw new VgfsException(ErrorCode.CONFLICT, "no state offered to " + standby + " at seq "
          + seq + "; ask to follow again");
    }
    int page = req.getInteger("page", 0);
    int from = page * PAGE;
    int to = Math.min(o.entries().size(), from + PAGE);
    if (page < 0 || from > o.entries().size()) {
      throw new VgfsException(ErrorCode.BAD_REQUEST, "page " + page + " is out of range");
    }
    JsonArray entries = new JsonArray(new java.util.ArrayList<>(to - from));
    for (Object e : o.entries().subList(from, to)) {
      entries.add(MetadataState.encodeEntry(e));
    }
    boolean last = to == o.entries().size();
    if (last) {
      offers.remove(standby);
    }
    return new JsonObject().put("header", o.header()).put("entries", entries).put("last", last);
  }

  /** Forgets offers no standby finished fetching. */
  void expire(long nowNanos) {
    Iterator<Offer> it = offers.values().iterator();
    while (it.hasNext()) {
      if (nowNanos - it.next().bornNanos() > EXPIRE_NANOS) {
        it.remove();
      }
    }
  }
}
