package io.jcircuit.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class CompareTest {

    @TempDir
    Path dir;

    /** A whole run: unpinned tcp 6 µs, JCircuit {@code rttUs}; 1 CPU tcp 4.7 µs, JCircuit 8 µs; then spawns. */
    private static Results run(double rttUs, double warmMs) {
        return Results.merge(Figures.pass(6.0, rttUs, 15.0), Figures.pass(4.7, 8.0, 20.0),
            Figures.spawn(40.0, 200.0, warmMs, 80.0));
    }

    private List<Path> write(String side, Results... runs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < runs.length; i++) {
            // as `circuit bench --json > FILE` writes it, or with its progress lines before it (2>&1)
            files.add(Files.writeString(dir.resolve(side + "-" + i + ".json"),
                (i % 2 == 0 ? "" : "bench: unpinned pass...\n") + runs[i].toJson() + "\n"));
        }
        return files;
    }

    private record Printed(int code, String out, String err) {
        String row(String key) {
            return Arrays.stream(out.split("\\R")).filter(l -> l.startsWith(key + " ")).findFirst().orElseThrow();
        }
    }

    private static Printed compare(List<Path> a, List<Path> b, boolean json) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Compare.run(a, b, json, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Printed(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theRankTestIsExactForSmallSidesAndCountsBothDirections() {
        // four against four, completely apart: 2 of the 70 ways of splitting eight runs are as far apart
        assertThat(Compare.rankTestP(new double[] {1, 2, 3, 4}, new double[] {5, 6, 7, 8})).isCloseTo(2 / 70.0, within(1e-12));
        assertThat(Compare.rankTestP(new double[] {5, 6, 7, 8}, new double[] {1, 2, 3, 4})).isCloseTo(2 / 70.0, within(1e-12));
        assertThat(Compare.rankTestP(new double[] {1, 2, 3}, new double[] {4, 5, 6})).isCloseTo(0.1, within(1e-12));
        // ranks {1, 3} against {2, 4}: of the six sums of two ranks (3, 4, 5, 5, 6, 7), four are 1 or more from 5
        assertThat(Compare.rankTestP(new double[] {1, 3}, new double[] {2, 4})).isCloseTo(4 / 6.0, within(1e-12));
        // ties share their rank; all alike tells nothing
        assertThat(Compare.rankTestP(new double[] {2, 2}, new double[] {2, 2})).isEqualTo(1.0);
        assertThat(Compare.rankTestP(new double[] {1, 2, 2}, new double[] {2, 3, 3})).isGreaterThan(0.1).isLessThan(1);
        assertThat(Compare.rankTestP(new double[] {1}, new double[] {})).isEqualTo(1.0);
        assertThat(Compare.smallestP(3, 3)).isCloseTo(0.1, within(1e-12));
        assertThat(Compare.smallestP(1, 1)).isEqualTo(1.0);
    }

    @Test
    void largeSidesUseTheNormalApproximationWithItsCorrectionForTies() {
        double[] a = {1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7};
        double[] b = {3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 8, 9};
        // SciPy 1.17.1: mannwhitneyu(a, b, alternative='two-sided', method='asymptotic', use_continuity=False)
        assertThat(Compare.rankTestP(a, b)).isCloseTo(0.002310823994042508, within(1e-6));
        assertThat(Compare.rankTestP(b, a)).isCloseTo(0.002310823994042508, within(1e-6));
    }

    @Test
    void theChanceOfASmallPIsTheLargestPTheTestCanGiveAtOrBelowFivePerCent() {
        assertThat(Compare.chanceOfSmallP(4, 4)).isCloseTo(2 / 70.0, within(1e-12));
        // five a side: 2, 4, 8 and 14 of the 252 splits; 14 / 252 = 0.056 is past 0.05
        assertThat(Compare.chanceOfSmallP(5, 5)).isCloseTo(8 / 252.0, within(1e-12));
        assertThat(Compare.chanceOfSmallP(3, 3)).isZero();
        assertThat(Compare.chanceOfSmallP(13, 13)).isEqualTo(0.05);
    }

    @Test
    void largeSidesUseTheNormalApproximation() {
        double[] a = new double[13];
        double[] b = new double[13];
        for (int i = 0; i < 13; i++) {
            a[i] = i;
            b[i] = 100 + i;
        }
        // C(26, 13) is about 10 million ways, past the exact limit; exact p would be 2 / 10,400,600
        assertThat(Compare.binomial(26, 13)).isCloseTo(10_400_600, within(0.5));
        assertThat(Compare.rankTestP(a, b)).isLessThan(1e-4).isGreaterThan(0);
        double[] mixed = new double[13];
        for (int i = 0; i < 13; i++) {
            mixed[i] = i % 2 == 0 ? a[i] : b[i];
        }
        double[] rest = new double[13];
        for (int i = 0; i < 13; i++) {
            rest[i] = i % 2 == 0 ? b[i] : a[i];
        }
        assertThat(Compare.rankTestP(mixed, rest)).isGreaterThan(0.5);
    }

    @Test
    void comparesRatiosWithinEachRunAndSaysWhichSideIsBetterWhenTheRunsAreApart() throws IOException {
        // B's round trip is 7 µs against A's 10, each against the same 6 µs of raw TCP: x tcp 1.17 against 1.67
        List<Path> a = write("a", run(10.0, 3.5), run(10.2, 3.5), run(9.9, 1.5), run(10.4, 3.6));
        List<Path> b = write("b", run(7.0, 3.4), run(7.2, 3.6), run(6.9, 3.5), run(7.3, 1.9));
        Printed p = compare(a, b, false);

        assertThat(p.code()).isZero();
        assertThat(p.err()).isEmpty();
        assertThat(p.out()).contains("A = 4 runs (a-0.json, a-1.json, a-2.json, a-3.json)");
        assertThat(p.row("circuit_rtt_p50_us")).contains("x tcp").contains("1.68 [1.65-1.73]")
            .contains("1.18 [1.15-1.22]").contains("0.029").contains("B better")
            .endsWith("0/4   4/4"); // below RMI's 9 µs: B's runs, not A's
        // the same figure in the 1-CPU pass did not move: no verdict
        assertThat(p.row("circuit_rtt_p50_us_1cpu")).contains("1.00 ").contains("1.000  -").doesNotContain("better").doesNotContain("worse");
        // floors are compared as measured; a figure without a target counts no runs
        assertThat(p.row("tcp_rtt_p50_us")).contains("value").contains("6.00 [6.00-6.00] us").endsWith("  ");
        // the warm spawn met its 2 ms once on each side
        assertThat(p.row("spawn_warm_p50_ms")).contains("x hello").endsWith("1/4   1/4");
        assertThat(p.row("circuit_go_rtt_p50_us")).as("go is judged on 1 CPU only").endsWith("  ");
        assertThat(p.out()).contains("the smallest p possible is 0.029.")
            .contains("Of the 19 rows that can read better or worse, about 0.5 do so by chance alone when nothing"
                + " changed (0.029 each)").doesNotContain("A floor moved").contains("exact);");
    }

    @Test
    void aFloorThatMovedIsNotCalledBetterAndItsRatiosAreFlagged() throws IOException {
        // raw TCP 6 µs in A's runs, 5 in B's: the machine, not the build
        List<Path> a = write("a", run(10.0, 3.5), run(10.0, 3.5), run(10.0, 3.5), run(10.0, 3.5));
        Results fasterTcp = Results.merge(Figures.pass(5.0, 10.0, 15.0), Figures.pass(4.7, 8.0, 20.0),
            Figures.spawn(40.0, 200.0, 3.5, 80.0));
        Results fasterTcp2 = Results.merge(Figures.pass(5.1, 10.2, 15.0), Figures.pass(4.7, 8.0, 20.0),
            Figures.spawn(40.0, 200.0, 3.5, 80.0));
        Printed p = compare(a, write("b", fasterTcp, fasterTcp2, fasterTcp, fasterTcp2), false);
        assertThat(p.row("tcp_rtt_p50_us")).contains("0.029").contains("moved").doesNotContain("better");
        // against the faster floor the same round trip is a larger multiple of it, and the table says why
        assertThat(p.row("circuit_rtt_p50_us")).contains("0.029").contains("B worse");
        assertThat(p.out()).contains("A floor moved (tcp_rtt_p50_us): the ratios to it in the unpinned pass or of the"
            + " spawns move with it").doesNotContain("A floor moved (tcp_rtt_p50_us_1cpu");
    }

    @Test
    void saysWhenTooFewRunsCanTellAnything() throws IOException {
        Printed p = compare(write("a", run(10.0, 3.5), run(10.0, 3.5)), write("b", run(7.0, 3.5), run(7.0, 3.5)), false);
        assertThat(p.code()).isZero();
        assertThat(p.row("circuit_rtt_p50_us")).contains("0.333").doesNotContain("better");
        assertThat(p.out()).contains("the smallest p possible is 0.333: no difference can be told from noise")
            .doesNotContain("by chance alone");
        // the reference peers and the A/B's spread are never better or worse
        assertThat(Compare.reference(Metric.RMI_RTT_P50)).isTrue();
        assertThat(Compare.reference(Metric.CIRCUIT_METRICS_AB_SPREAD)).isTrue();
        assertThat(Compare.reference(Metric.CIRCUIT_CALLS_8)).isFalse();
    }

    @Test
    void printsOneJsonObjectWithEveryRunsMeasure() throws IOException {
        Printed p = compare(write("a", run(10.0, 3.5), run(10.2, 3.5), run(9.9, 3.5)),
            write("b", run(7.0, 3.5), run(7.1, 3.5), run(6.9, 3.5)), true);
        assertThat(p.code()).isZero();
        assertThat(p.out().strip()).startsWith("{\"a_runs\":3,\"b_runs\":3,\"figures\":[").endsWith("]}")
            .contains("{\"key\":\"circuit_rtt_p50_us\",\"measure\":\"x tcp_rtt_p50_us\",\"a\":[1.66667,1.70000,1.65000]")
            .contains("\"p\":0.100000,\"verdict\":\"-\",\"met_a\":0,\"met_b\":3}")
            .contains("{\"key\":\"worker_idle_rss_mb\",\"measure\":\"value\",\"a\":[80.0000,80.0000,80.0000]");
        assertThat(p.out().lines().count()).isEqualTo(1);
    }

    @Test
    void refusesFilesThatAreNoWholeRunNamingThem() throws IOException {
        List<Path> good = write("a", run(10.0, 3.5));
        Path table = Files.writeString(dir.resolve("table.txt"), "figure  unpinned\ntcp_rtt_p50_us 6.0 us\n");
        Printed p = compare(good, List.of(table), false);
        assertThat(p.code()).isEqualTo(2);
        assertThat(p.out()).isEmpty();
        assertThat(p.err()).contains("table.txt holds no JSON object").contains("circuit bench --json > table.txt");

        Path partial = Files.writeString(dir.resolve("calls-only.json"), Figures.pass(6.0, 10.0, 15.0).toJson());
        p = compare(good, List.of(partial), false);
        assertThat(p.code()).isEqualTo(2);
        assertThat(p.err()).contains("calls-only.json is not a whole run of 'circuit bench --json'")
            .contains("no figure 'tcp_rtt_p50_us_1cpu'");

        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"tcp_rtt_p50_us\":fast}");
        assertThat(compare(good, List.of(broken), false).err()).contains("broken.json is not a whole run")
            .contains("is not a number");

        Path utf16 = Files.writeString(dir.resolve("utf16.json"), run(10.0, 3.5).toJson() + "\u00e9",
            StandardCharsets.UTF_16);
        assertThat(compare(good, List.of(utf16), false).err()).contains("utf16.json is not UTF-8 text");

        p = compare(good, List.of(dir.resolve("missing.json")), false);
        assertThat(p.code()).isEqualTo(2);
        assertThat(p.err()).contains("cannot read " + dir.resolve("missing.json") + ": no such file");
    }
}
