package io.vgfs.master;

import com.hazelcast.cluster.Member;

/**
 * Vert.x identifies cluster nodes by its own id, kept as a Hazelcast member attribute; it is the
 * id chunkservers and standbys report, so membership events are translated through it.
 */
final class NodeIds {

  private static final String ATTRIBUTE = "__vertx.nodeId";

  private NodeIds() {
  }

  static String of(Member member) {
    String id = member.getAttribute(ATTRIBUTE);
    return id != null ? id : member.getUuid().toString();
  }
}
