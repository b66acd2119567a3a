package io.jcircuit.examples.wordcount;

import io.jcircuit.runtime.CircuitRuntime;
import io.jcircuit.test.LocalCircuit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The distributed counts equal the single-process ones, on a subset of the JDK's sources. */
@Tag("slow")
class WordCountTest {

    @RegisterExtension
    static final LocalCircuit circuit = LocalCircuit.withHosts(1);

    private static final Path SRC_ZIP = Path.of(System.getProperty("java.home"), "lib", "src.zip");

    @Test
    void countsMatchTheSingleProcessBaseline() throws Exception {
        CircuitRuntime driver = circuit.newClient();
        AtomicLong progressed = new AtomicLong();
        AtomicLong progressedFiles = new AtomicLong();
        WordCount.Result distributed = WordCount.run(driver, SRC_ZIP, 2, 20, 400, (files, bytes) -> {
            progressedFiles.addAndGet(files);
            progressed.addAndGet(bytes);
        });
        WordCount.Result baseline = Words.baseline(SRC_ZIP, 400, 20);

        assertThat(distributed.files()).isEqualTo(400).isEqualTo(baseline.files());
        assertThat(distributed.bytes()).isEqualTo(baseline.bytes()).isEqualTo(progressed.get());
        assertThat(progressedFiles.get()).as("every file reported, in batches").isEqualTo(400);
        assertThat(distributed.tokens()).isEqualTo(baseline.tokens()).isPositive();
        assertThat(new ArrayList<>(distributed.top())).isEqualTo(new ArrayList<>(baseline.top()));
        assertThat(distributed.top()).hasSize(20);
    }

    @Test
    void tokenizeFindsJavaIdentifiers() {
        List<String> words = new ArrayList<>();
        Words.tokenize("int x1 = foo_bar(2, $y) + 3z;".getBytes(), words::add);
        assertThat(words).containsExactly("int", "x1", "foo_bar", "$y", "z");
    }

    @Test
    void topKeepsTheMostFrequentWithTiesByWord() {
        java.util.Map<String, Long> counts = new java.util.HashMap<>();
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < 5_000; i++) {
            counts.put("w" + i, (long) random.nextInt(40)); // many ties
        }
        List<java.util.Map.Entry<String, Long>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort(java.util.Map.Entry.<String, Long>comparingByValue(java.util.Comparator.reverseOrder())
            .thenComparing(java.util.Map.Entry.comparingByKey()));
        for (int k : new int[] {0, 1, 20, 5_000, 6_000}) {
            assertThat(new ArrayList<>(Words.topOf(counts.entrySet(), k)))
                .as("k = %d", k).isEqualTo(new ArrayList<>(sorted.subList(0, Math.min(k, sorted.size()))));
        }
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 60, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aFileNoMapperCanReadFailsTheJobInsteadOfHangingIt(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path zip = dir.resolve("broken.zip");
        try (java.util.zip.ZipOutputStream out = new java.util.zip.ZipOutputStream(java.nio.file.Files.newOutputStream(zip))) {
            for (int i = 0; i < 2_000; i++) { // more batches than the work channel holds
                out.putNextEntry(new java.util.zip.ZipEntry("p/C" + i + ".java"));
                out.write(("class C" + i + " { int x" + i + " = " + i + "; }\n").repeat(20).getBytes());
                out.closeEntry();
            }
        }
        // Spoil every entry's compressed data; the listing at the end stays intact, so the driver hands out
        // the files, and every mapper fails on its first.
        List<Long> sizes = new ArrayList<>(); // compressed sizes, in the order the entries were written
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(zip.toFile())) {
            z.stream().forEach(e -> sizes.add(e.getCompressedSize()));
        }
        java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(java.nio.file.Files.readAllBytes(zip)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        for (long size : sizes) {
            assertThat(bytes.getInt(at)).as("a local file header").isEqualTo(0x04034b50);
            int data = at + 30 + bytes.getShort(at + 26) + bytes.getShort(at + 28);
            for (int i = 0; i < 8; i++) {
                bytes.put(data + i, (byte) 0xff);
            }
            at = data + (int) size + ((bytes.getShort(at + 6) & 8) != 0 ? 16 : 0); // and its data descriptor, if any
        }
        java.nio.file.Files.write(zip, bytes.array());

        CircuitRuntime driver = circuit.newClient();
        assertThatThrownBy(() -> WordCount.run(driver, zip, 2, 20, Integer.MAX_VALUE, (files, b) -> { }))
            .hasRootCauseInstanceOf(java.util.zip.ZipException.class);
    }
}
