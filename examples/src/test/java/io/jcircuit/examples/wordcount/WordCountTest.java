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
        WordCount.Result distributed = WordCount.run(driver, SRC_ZIP, 2, 2, 20, 400, (files, bytes) -> {
            progressedFiles.addAndGet(files);
            progressed.addAndGet(bytes);
        });
        WordCount.Result baseline = WordCount.baseline(SRC_ZIP, 400, 20);

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
        WordCount.tokenize("int x1 = foo_bar(2, $y) + 3z;".getBytes(), words::add);
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
            assertThat(new ArrayList<>(WordCount.topOf(counts.entrySet(), k)))
                .as("k = %d", k).isEqualTo(new ArrayList<>(sorted.subList(0, Math.min(k, sorted.size()))));
        }
    }
}
