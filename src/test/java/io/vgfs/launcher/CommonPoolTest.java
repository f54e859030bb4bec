package io.vgfs.launcher;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CommonPoolTest {

  private String saved;

  @BeforeEach
  void save() {
    saved = System.getProperty(CommonPool.PROPERTY);
    System.clearProperty(CommonPool.PROPERTY);
  }

  @AfterEach
  void restore() {
    if (saved == null) {
      System.clearProperty(CommonPool.PROPERTY);
    } else {
      System.setProperty(CommonPool.PROPERTY, saved);
    }
  }

  @Test
  void twoThreadsOnTwoCores() {
    CommonPool.ensureParallel(2);
    assertThat(System.getProperty(CommonPool.PROPERTY)).isEqualTo("2");
  }

  @Test
  void twoThreadsOnOneCore() {
    CommonPool.ensureParallel(1);
    assertThat(System.getProperty(CommonPool.PROPERTY)).isEqualTo("2");
  }

  @Test
  void theJdkDefaultWhereItIsLargeEnough() {
    CommonPool.ensureParallel(8);
    assertThat(System.getProperty(CommonPool.PROPERTY)).isNull();
  }

  @Test
  void keepsTheOperatorsChoice() {
    System.setProperty(CommonPool.PROPERTY, "1");
    CommonPool.ensureParallel(2);
    assertThat(System.getProperty(CommonPool.PROPERTY)).isEqualTo("1");
  }
}
