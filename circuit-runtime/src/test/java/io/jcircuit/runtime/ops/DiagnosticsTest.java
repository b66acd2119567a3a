package io.jcircuit.runtime.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

class DiagnosticsTest {

    @TempDir
    Path dir;

    private final Diagnostics diagnostics = new Diagnostics();

    /** Many of these stay reachable during a histogram, so they must show up in it. */
    private record HistogramMarker(long a, long b) {
    }

    @Test
    void shouldIncludeAParkedVirtualThreadInBothDumpFormats() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Thread virtual = Thread.ofVirtual().name("jcircuit-diagnostics-virtual").start(() -> parkForDiagnosticsTest(release));
        try {
            await().atMost(Duration.ofSeconds(5)).until(() -> virtual.getState() == Thread.State.WAITING);

            String text = diagnostics.threadDump(false);
            assertThat(text).contains("\"jcircuit-diagnostics-virtual\" virtual WAITING")
                .contains("DiagnosticsTest.parkForDiagnosticsTest");

            String json = diagnostics.threadDump(true);
            assertThat(json.strip()).startsWith("{").endsWith("}");
            assertThat(json).containsPattern("\"virtual\": true,\\s+\"name\": \"jcircuit-diagnostics-virtual\"")
                .contains("DiagnosticsTest.parkForDiagnosticsTest");
        } finally {
            release.countDown();
            virtual.join();
        }
    }

    private static void parkForDiagnosticsTest(CountDownLatch release) {
        try {
            release.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void shouldRankAClassWeKeepManyInstancesOf() {
        List<HistogramMarker> markers = new ArrayList<>();
        for (int i = 0; i < 200_000; i++) {
            markers.add(new HistogramMarker(i, -i));
        }

        List<HistogramRow> rows = diagnostics.heapHistogramRows(50);
        Reference.reachabilityFence(markers);

        assertThat(rows).hasSize(50);
        assertThat(rows).extracting(HistogramRow::rank).containsExactlyElementsOf(
            java.util.stream.IntStream.rangeClosed(1, 50).boxed().toList());
        assertThat(rows).extracting(HistogramRow::bytes).isSortedAccordingTo(java.util.Comparator.reverseOrder());
        assertThat(rows).anySatisfy(row -> {
            assertThat(row.className()).isEqualTo(HistogramMarker.class.getName());
            assertThat(row.instances()).isGreaterThanOrEqualTo(200_000);
            assertThat(row.bytes()).isGreaterThanOrEqualTo(200_000L * 16);
        });
    }

    @Test
    void shouldTrimTheHistogramTextToHeaderTopRowsAndTotal() {
        List<String> lines = diagnostics.heapHistogram(3).lines().toList();

        assertThat(lines).hasSize(2 + 3 + 1);
        assertThat(lines.get(0)).contains("#instances").contains("#bytes").contains("class name");
        assertThat(lines.subList(2, 5)).allSatisfy(line -> assertThat(HistogramRow.parse(line)).isPresent());
        assertThat(lines.get(5)).startsWith("Total");
    }

    @Test
    void shouldParseHistogramRowsWithAndWithoutModule() {
        assertThat(HistogramRow.parse("   1:         22268        1260872  [B (java.base@25.0.3)"))
            .contains(new HistogramRow(1, 22268, 1260872, "[B"));
        assertThat(HistogramRow.parse("  12:            40            960  com.example.Outer$Inner"))
            .contains(new HistogramRow(12, 40, 960, "com.example.Outer$Inner"));
        assertThat(HistogramRow.parse("Total        104164        4726208")).isEmpty();
        assertThat(HistogramRow.parse(" num     #instances         #bytes  class name (module)")).isEmpty();
    }

    @Test
    void shouldWriteAnHprofHeapDump() throws Exception {
        Path file = diagnostics.heapDump(dir.resolve("dumps/heap.hprof"), true);

        assertThat(file).isEqualTo(dir.resolve("dumps/heap.hprof").toAbsolutePath());
        assertThat(Files.size(file)).isGreaterThan(1 << 20);
        try (InputStream in = Files.newInputStream(file)) {
            assertThat(new String(in.readNBytes(18), StandardCharsets.US_ASCII)).isEqualTo("JAVA PROFILE 1.0.2");
        }
    }

    @Test
    void shouldRefuseAHeapDumpNameWithoutHprofSuffix() {
        assertThatThrownBy(() -> diagnostics.heapDump(dir.resolve("heap.bin"), true))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining(".hprof").hasMessageContaining("heap.bin");
        assertThat(dir.resolve("heap.bin")).doesNotExist();
    }

    @Test
    void shouldNeverOverwriteAFileWithAHeapDump() throws Exception {
        Path existing = Files.writeString(dir.resolve("old.hprof"), "keep me");

        assertThatThrownBy(() -> diagnostics.heapDump(existing, false)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(existing).hasContent("keep me");
    }

    @Test
    void shouldRefuseANegativeTopN() {
        assertThatThrownBy(() -> diagnostics.heapHistogram(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
    }
}
