package io.vgfs.launcher;

import com.hazelcast.cluster.Address;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.server.ServerConnection;
import com.hazelcast.internal.server.ServerConnectionManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.UUID;

import static io.vgfs.it.TestSupport.poll;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two real Hazelcast members and a "hung" peer: a listening socket nobody accepts from, which is
 * what a SIGSTOPped process looks like to a connecting member (the kernel completes the TCP
 * handshake, the Hazelcast handshake never comes).
 */
class HandshakeWatchdogTest {

  private static HazelcastInstance a;
  private static HazelcastInstance b;

  @BeforeAll
  static void start() {
    String cluster = "watchdog-test-" + UUID.randomUUID();
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort(); // free now; auto-increment finds the next ones
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
    a = Hazelcast.newHazelcastInstance(config(cluster, port));
    b = Hazelcast.newHazelcastInstance(config(cluster, port));
    HandshakeWatchdog.watch(a);
  }

  private static Config config(String cluster, int port) {
    Config config = new Config().setClusterName(cluster);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.getNetworkConfig().setPort(port).setPortAutoIncrement(true).setPortCount(100)
        .getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    config.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
    config.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    config.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(true)
        .setMembers(Cluster.joinMembers("127.0.0.1:" + port + "-" + (port + 10)));
    return config;
  }

  @AfterAll
  static void stop() {
    for (HazelcastInstance hz : new HazelcastInstance[] {a, b}) {
      if (hz != null) {
        hz.shutdown();
      }
    }
  }

  private static ServerConnectionManager connections(HazelcastInstance hz) {
    return ((HazelcastInstanceProxy) hz).getOriginal().node.getServer()
        .getConnectionManager(EndpointQualifier.MEMBER);
  }

  private static boolean connectedTo(HazelcastInstance hz, int port) {
    return connections(hz).getConnections().stream()
        .filter(ServerConnection::isAlive)
        .anyMatch(c -> c.getRemoteAddress() != null && c.getRemoteAddress().getPort() == port);
  }

  @Test
  void closesAConnectionWhosePeerNeverAnswersAndKeepsHealthyOnes() throws Exception {
    assertThat(a.getCluster().getMembers()).hasSize(2);
    int memberPort = b.getCluster().getLocalMember().getAddress().getPort();
    try (ServerSocket hung = new ServerSocket()) {
      hung.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 50);
      // Timed from before the connection exists: the watchdog first sees it after this, so it
      // may not close it sooner than its timeout from here (the poll below may notice late).
      long opened = System.nanoTime();
      connections(a).getOrConnect(new Address("127.0.0.1", hung.getLocalPort()));
      poll(5_000, () -> connectedTo(a, hung.getLocalPort()), "a connection to the hung peer");
      poll(5_000, () -> !connectedTo(a, hung.getLocalPort()), "the watchdog to close it");
      double seconds = (System.nanoTime() - opened) / 1e9;
      assertThat(seconds).isBetween(HandshakeWatchdog.TIMEOUT_MILLIS / 1e3 - 0.05, 3.0);
    }
    // The member-to-member connection answered its handshake long ago and stays.
    assertThat(connectedTo(a, memberPort)).isTrue();
    assertThat(a.getCluster().getMembers()).hasSize(2);
  }
}
