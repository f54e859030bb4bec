package io.vgfs.master;

import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vgfs.protocol.Addresses;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The majority rule of a cluster started with {@code --master-quorum q} (q &gt; 1; three masters
 * and q = 2 is the usual shape). Masters are the cluster's only Hazelcast data members, so
 * "masters present" is the data members this node sees. The rule has three parts:
 * <ul>
 *   <li>a master becomes active only while at least q masters (itself included) are present, and
 *       steps down as soon as fewer are: on the minority side of a partition no master acts;</li>
 *   <li>a mutation is acknowledged only once q masters hold it durably: the active and q - 1
 *       caught-up standbys ({@link LogShipper});</li>
 *   <li>of the masters present, only the one whose log goes furthest may take over
 *       ({@link #mostRecent}): every acknowledged mutation is on q masters, and any q masters
 *       include one of them, so that one holds everything acknowledged.</li>
 * </ul>
 * With q = 1 (the default) none of this applies: a lone master acts, which suits one host or two
 * masters, but a partition between master hosts can then make two masters active.
 */
final class Quorum {

  private static final Logger log = LoggerFactory.getLogger(Quorum.class);

  private final Vertx vertx;
  private final HazelcastInstance hazelcast;
  private final int size;
  private final String masterId;
  private final String nodeId;
  private final Supplier<JsonObject> position;
  private MessageConsumer<JsonObject> answering;

  /**
   * @param position this master's log position {@code {epoch, seq}}, read on the event loop
   */
  Quorum(Vertx vertx, HazelcastInstance hazelcast, int size, String masterId, String nodeId,
         Supplier<JsonObject> position) {
    this.vertx = vertx;
    this.hazelcast = hazelcast;
    this.size = size;
    this.masterId = masterId;
    this.nodeId = nodeId;
    this.position = position;
  }

  /** Whether the majority rule applies (q &gt; 1). */
  boolean enabled() {
    return size > 1;
  }

  int size() {
    return size;
  }

  /** Masters in the cluster as this node sees it, itself included. Safe on an event loop. */
  int mastersPresent() {
    return (int) hazelcast.getCluster().getMembers().stream().filter(m -> !m.isLiteMember())
        .count();
  }

  /** Whether enough masters are present for one to act (always, without a quorum). */
  boolean present() {
    return !enabled() || mastersPresent() >= size;
  }

  /** Answers other masters' position polls, whatever this master's role. */
  void start() {
    answering = vertx.eventBus().consumer(Addresses.positionsOf(nodeId), msg -> msg.reply(
        position.get().copy().put("masterId", masterId).put("nodeId", nodeId)));
  }

  void stop() {
    if (answering != null) {
      answering.unregister();
    }
  }

  /**
   * Whether this master's log goes further than that of every other master that answers (ties go
   * to the smaller id). It asks every other data member, waits up to {@code timeoutMs}, and
   * decides on fewer answers only if they and this master make a quorum: every acknowledged
   * mutation is on a quorum of masters, of which at most one (the dead active) is missing, so with
   * at most 2q - 1 masters any q of the others hold all of them. With fewer answers the answer is
   * no, and the campaign asks again later (a master still starting, or hung and about to be
   * removed).
   */
  Future<Boolean> mostRecent(long timeoutMs) {
    Set<String> others = hazelcast.getCluster().getMembers().stream()
        .filter(m -> !m.isLiteMember() && !m.localMember()).map(NodeIds::of)
        .collect(Collectors.toSet());
    if (others.isEmpty()) {
      return Future.succeededFuture(true);
    }
    JsonObject mine = position.get();
    JsonObject ask = new JsonObject().put("masterId", masterId);
    DeliveryOptions within = new DeliveryOptions().setSendTimeout(timeoutMs);
    Map<String, JsonObject> answers = new HashMap<>();
    Map<String, String> silent = new TreeMap<>();
    List<Future<?>> asked = new ArrayList<>();
    for (String node : others) {
      asked.add(vertx.eventBus().<JsonObject>request(Addresses.positionsOf(node), ask, within)
          .onSuccess(reply -> answers.put(node, reply.body()))
          .onFailure(t -> silent.put(node, t.getMessage())));
    }
    return Future.join(asked).transform(ignored -> {
      if (silent.isEmpty()) {
        return Future.succeededFuture(decide(mine, answers));
      }
      if (answers.size() >= size - 1) {
        log.info("master {}: masters on {} did not tell their log position in time; deciding "
            + "with the {} that did", masterId, silent, answers.size());
        return Future.succeededFuture(decide(mine, answers));
      }
      log.info("master {}: masters on {} did not tell their log position in time; not taking "
          + "over yet", masterId, silent);
      return Future.succeededFuture(false);
    });
  }

  private boolean decide(JsonObject mine, Map<String, JsonObject> answers) {
    for (JsonObject other : answers.values()) {
      String id = other.getString("masterId");
      if (id != null && !id.equals(masterId) && Campaign.newer(other, id, mine, masterId)) {
        log.info("master {} (epoch {}, seq {}): master {} has a more recent log (epoch {}, seq {})"
            + " and should take over", masterId, mine.getLong("epoch"), mine.getLong("seq"), id,
            other.getLong("epoch"), other.getLong("seq"));
        return false;
      }
    }
    return true;
  }

  /** For log lines: "2 of 3". */
  String describe() {
    return mastersPresent() + " master(s) present, quorum " + size;
  }
}
