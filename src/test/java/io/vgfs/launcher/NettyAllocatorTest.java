package io.vgfs.launcher;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class NettyAllocatorTest {

  private String saved;

  @BeforeEach
  void save() {
    saved = System.getProperty(NettyAllocator.PROPERTY);
  }

  @AfterEach
  void restore() {
    if (saved == null) {
      System.clearProperty(NettyAllocator.PROPERTY);
    } else {
      System.setProperty(NettyAllocator.PROPERTY, saved);
    }
  }

  @Test
  void choosesPooledWhenUnset() {
    System.clearProperty(NettyAllocator.PROPERTY);
    NettyAllocator.choosePooled();
    assertThat(System.getProperty(NettyAllocator.PROPERTY)).isEqualTo("pooled");
  }

  @Test
  void keepsTheOperatorsChoice() {
    System.setProperty(NettyAllocator.PROPERTY, "adaptive");
    NettyAllocator.choosePooled();
    assertThat(System.getProperty(NettyAllocator.PROPERTY)).isEqualTo("adaptive");
  }
}
