package io.jcircuit.anchor;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PathsTest {

    @Test
    void acceptsPlainPaths() {
        assertThat(Paths.anchorDir("/", false)).isEqualTo("/");
        assertThat(Paths.anchorDir("/wordcount/map", true)).isEqualTo("/wordcount/map");
        assertThat(Paths.anchorDir("/a.b_c-d:e@f+g=h,i", true)).isEqualTo("/a.b_c-d:e@f+g=h,i");
        assertThat(Paths.durablePath("/cfg/R0123456789abcdef", true)).isEqualTo("/cfg/R0123456789abcdef");
    }

    @Test
    void refusesMalformedPathsNamingThem() {
        assertThatThrownBy(() -> Paths.anchorDir("relative", false))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'relative'").hasMessageContaining("start with '/'");
        assertThatThrownBy(() -> Paths.anchorDir("/a//b", false)).hasMessageContaining("'/a//b'").hasMessageContaining("empty component");
        assertThatThrownBy(() -> Paths.anchorDir("/a/", false)).hasMessageContaining("end with '/'");
        // '//' is an empty component, not a trailing slash (a probe's `ls //` said the latter)
        assertThatThrownBy(() -> Paths.anchorDir("//", false)).hasMessageContaining("'//'").hasMessageContaining("empty component");
        assertThatThrownBy(() -> Paths.anchorDir("/a//", false)).hasMessageContaining("empty component");
        assertThatThrownBy(() -> Paths.anchorDir("/a/../b", false)).hasMessageContaining("'..'");
        assertThatThrownBy(() -> Paths.anchorDir("/x/.../y", false)).hasMessageContaining("'...' is not allowed as a component");
        assertThatThrownBy(() -> Paths.anchorDir("/a b", false)).hasMessageContaining("character ' '");
        assertThatThrownBy(() -> Paths.anchorDir("/a\u0000", false)).hasMessageContaining("\\u0000");
        assertThatThrownBy(() -> Paths.anchorDir("", false)).hasMessageContaining("empty");
        assertThatThrownBy(() -> Paths.anchorDir(null, false)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Paths.anchorDir("/" + "x".repeat(256), false)).hasMessageContaining("longer than 255");
        // each component is a ZooKeeper node: thousands of them made a namespace that could not start again
        String deep = "/a".repeat(4000);
        assertThatThrownBy(() -> Paths.anchorDir(deep, false)).hasMessageContaining("8000 characters long, more than 1024")
            .satisfies(t -> assertThat(t.getMessage()).hasSizeLessThan(300));
        assertThat(Paths.anchorDir("/a".repeat(512), false)).hasSize(1024);
    }

    @Test
    void refusesDirectoriesThatLookLikeWorkerIds() {
        assertThatThrownBy(() -> Paths.anchorDir("/svc/R0123456789abcdef/x", false))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("'/svc/R0123456789abcdef/x'")
            .hasMessageContaining("looks like a worker id");
    }

    @Test
    void refusesFilingUnderReservedOrRoot() {
        assertThatThrownBy(() -> Paths.anchorDir("/worker", true)).hasMessageContaining("reserved");
        assertThatThrownBy(() -> Paths.anchorDir("/host/x", true)).hasMessageContaining("reserved");
        assertThatThrownBy(() -> Paths.anchorDir("/", true)).hasMessageContaining("directly under '/'");
        assertThat(Paths.anchorDir("/worker", false)).isEqualTo("/worker"); // listing it is fine
        assertThatThrownBy(() -> Paths.durablePath("/", true)).hasMessageContaining("cannot be stored at '/'");
    }
}
