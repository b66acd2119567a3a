package io.jcircuit.runtime.ops;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FlameGraphHtmlTest {

    @Test
    void shouldFoldEqualStacksAndRoundTripTheTextForm() {
        CollapsedStacks stacks = CollapsedStacks.builder()
            .add(List.of("main", "work", "parse"), 3)
            .add(List.of("main", "work", "parse"), 2)
            .add(List.of("main", "idle"), 1)
            .build();

        assertThat(stacks.stacks()).containsExactly(
            java.util.Map.entry("main;idle", 1L), java.util.Map.entry("main;work;parse", 5L));
        assertThat(stacks.samples()).isEqualTo(3);
        assertThat(stacks.totalWeight()).isEqualTo(6);
        assertThat(stacks).hasToString("main;idle 1\nmain;work;parse 5\n");
        assertThat(CollapsedStacks.parse(stacks.toString()).stacks()).isEqualTo(stacks.stacks());
    }

    @Test
    void shouldKeepSpacesInFrameNamesAndRefuseALineWithoutWeight() {
        assertThat(CollapsedStacks.parse("start_thread;operator new(unsigned long) 7\n\n").stacks())
            .containsEntry("start_thread;operator new(unsigned long)", 7L);
        assertThatThrownBy(() -> CollapsedStacks.parse("main;work\n"))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("main;work");
    }

    @Test
    void shouldReplaceSeparatorsInsideFrameNames() {
        CollapsedStacks stacks = CollapsedStacks.builder().add(List.of("a;b", "c\nd"), 1).build();
        assertThat(stacks.stacks()).containsOnlyKeys("a_b;c_d");
    }

    @Test
    void shouldEmbedEveryFrameOnceWithItsWeightAndTheTitle() {
        CollapsedStacks stacks = CollapsedStacks.builder()
            .add(List.of("java.lang.Thread.run", "com.example.Worker.loop"), 30)
            .add(List.of("java.lang.Thread.run", "com.example.Worker.idle"), 10)
            .build();

        String page = FlameGraphHtml.render("JCircuit flame graph - CPU - jfr - 1 s - 2 samples", "samples", stacks);

        assertThat(page).startsWith("<!DOCTYPE html>")
            .contains("<title>JCircuit flame graph - CPU - jfr - 1 s - 2 samples</title>")
            .contains("const names = [\"all\",\"java.lang.Thread.run\",\"com.example.Worker.idle\",\"com.example.Worker.loop\"]")
            // all(40) -> Thread.run(40) -> idle(10), loop(30), children sorted by name
            .contains("const root = [0,40,[[1,40,[[2,10,[]],[3,30,[]]]]]]")
            .doesNotContain("http://", "https://", "src=");
    }

    @Test
    void shouldEscapeFrameNamesAndTitleSoTheyCannotBreakThePage() {
        CollapsedStacks stacks = CollapsedStacks.builder().add(List.of("</script><b>\"x\"\u2028"), 1).build();

        String page = FlameGraphHtml.render("<i>title</i>", "samples", stacks);

        assertThat(page).contains("\"\\u003c/script\\u003e\\u003cb\\u003e\\\"x\\\"\\u2028\"")
            .contains("<h1>&lt;i&gt;title&lt;/i&gt;</h1>")
            .doesNotContain("<b>", "<i>");
        assertThat(page.split("</script>", -1)).hasSize(2);
    }

    @Test
    void shouldSayWhenNoSamplesWereCollected() {
        String page = FlameGraphHtml.render("empty", "samples", CollapsedStacks.builder().build());
        assertThat(page).contains("No samples were collected.").contains("const root = [0,0,[]]");
    }

    @Test
    void shouldWriteDeepStacksWithoutRecursing() {
        List<String> deep = java.util.stream.IntStream.range(0, 50_000).mapToObj(i -> "f" + i).toList();
        String page = FlameGraphHtml.render("deep", "samples", CollapsedStacks.builder().add(deep, 1).build());
        assertThat(page).contains("\"f49999\"");
    }
}
