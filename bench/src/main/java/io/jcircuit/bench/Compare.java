package io.jcircuit.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code circuit bench compare}: two sets of bench runs side by side, such as the runs of two builds
 * taken in turn ({@code bench/ab}). Each run is the object that {@code circuit bench --json} printed.
 *
 * <p>Figures of different runs do not compare (the machine's speed moves from hour to hour), so each
 * figure that has a floor is compared through its ratio to that floor within its own run, the ratio the
 * bench's table shows ({@code x tcp}, {@code x rmi}, {@code x pipe}, {@code x hello}); the floors themselves,
 * the idle RSS and the metrics A/B's spread are compared as measured. For each figure and pass this prints the
 * median and range of each side, the ratio of the medians, and the two-sided p-value of a permutation test of
 * the two sides' ranks (Mann-Whitney): the share of all ways of splitting the pooled runs into two sides of
 * these sizes that set the sides at least as far apart as they are (exact up to {@link #EXACT_LIMIT} ways, the
 * normal approximation past that). Only a small
 * p says that the difference is more than the runs' own spread; with three runs a side no difference can
 * reach 0.05. For each target it counts the runs that met it.
 *
 * <p>Hand-written rather than taken from commons-math3 (on the class path through JMH): its
 * {@code MannWhitneyUTest} gives only the normal approximation, which is poor for the three to eight
 * runs a side that an A/B of the bench has time for.
 */
final class Compare {

    /** Above this many ways of splitting the runs, p comes from the normal approximation instead. */
    private static final long EXACT_LIMIT = 2_000_000;

    private static final String ROW = "%-36s %-7s %-26s %-26s %6s %6s  %-11s %5s %5s%n";

    private Compare() {
    }

    /** One side: its name, the files its runs came from, and the runs. */
    record Side(String name, List<Path> files, List<Results> runs) {
    }

    /**
     * One figure of one pass compared.
     *
     * @param metric  the figure
     * @param key     its JSON key ({@code _1cpu} for the pinned pass)
     * @param a       side A's measure, run by run
     * @param b       side B's
     * @param p       the two-sided p-value of the rank test
     * @param lowerIsBetter whether a smaller measure is the better one
     * @param metA    how many of A's runs met the figure's target, or -1 where it has none in this pass
     * @param metB    the same for B
     */
    record Row(Metric metric, String key, double[] a, double[] b, double p, boolean lowerIsBetter, int metA, int metB) {

        /**
         * The floor this figure is compared against, through its ratio to it in each run; none for a figure compared
         * as measured.
         */
        Optional<Metric> floor() {
            return metric.floor().filter(f -> f != metric);
        }

        /** What is compared, for {@code --json}: {@code "value"}, or {@code "x <floor key>"}. */
        String measure() {
            return floor().map(f -> "x " + f.key()).orElse("value");
        }

        double medianA() {
            return median(a);
        }

        double medianB() {
            return median(b);
        }

        /**
         * "B better", "B worse" when p is at most 0.05, otherwise "-"; "moved" for a {@link #reference} figure, which
         * measures the machine, the peers or the run's noise rather than JCircuit.
         */
        String verdict() {
            if (p > 0.05 || medianA() == medianB()) {
                return "-";
            }
            if (reference(metric)) {
                return "moved";
            }
            boolean bLower = medianB() < medianA();
            return bLower == lowerIsBetter ? "B better" : "B worse";
        }
    }

    /**
     * Whether {@code m} measures something other than JCircuit: raw TCP, RMI, the hello world (the floors and the
     * peers), or the metrics A/B's spread (the run's noise). A difference there is the machine's or the peers', so
     * it is never called better or worse.
     */
    static boolean reference(Metric m) {
        return switch (m) {
            case TCP_RTT_P50, RMI_RTT_P50, RMI_CALLS_8, TCP_PIPELINED, JVM_HELLO, CIRCUIT_METRICS_AB_SPREAD -> true;
            default -> false;
        };
    }

    /**
     * Reads both sides, compares them and prints a table, or with {@code json} one JSON object.
     *
     * @return 0, or 2 when a file cannot be read or is not a whole bench run, with the reason on {@code err}
     */
    static int run(List<Path> a, List<Path> b, boolean json, PrintStream out, PrintStream err) {
        Side sa;
        Side sb;
        try {
            sa = read("A", a);
            sb = read("B", b);
        } catch (IllegalArgumentException | UncheckedIOException e) {
            err.println("bench compare: " + e.getMessage());
            return 2;
        }
        List<Row> rows = rows(sa, sb);
        if (json) {
            out.println(toJson(sa, sb, rows));
        } else {
            print(sa, sb, rows, out);
        }
        return 0;
    }

    /**
     * The runs of one side, each the last line of its file that starts with {@code {}.
     *
     * @throws IllegalArgumentException naming the file when it holds no whole bench run
     */
    static Side read(String name, List<Path> files) {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("side " + name + " has no runs");
        }
        List<Results> runs = new ArrayList<>();
        for (Path f : files) {
            String json;
            try {
                json = Files.readAllLines(f).reversed().stream().map(String::strip).filter(l -> l.startsWith("{"))
                    .findFirst().orElseThrow(() -> new IllegalArgumentException(f + " holds no JSON object; write it"
                        + " with 'circuit bench --json > " + f.getFileName() + "'"));
            } catch (java.nio.file.NoSuchFileException e) {
                throw new UncheckedIOException("cannot read " + f + ": no such file", e);
            } catch (java.nio.file.AccessDeniedException e) {
                throw new UncheckedIOException("cannot read " + f + ": permission denied", e);
            } catch (java.nio.charset.MalformedInputException e) {
                throw new IllegalArgumentException(f + " is not UTF-8 text (as 'circuit bench --json > FILE' writes it)", e);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
            }
            Results r;
            try {
                r = Results.parseJson(json);
                for (Metric m : Metric.values()) {
                    r.get(m.key());
                    if (m.group() == Metric.Group.CALLS) {
                        r.get(m.key(true));
                    }
                }
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(f + " is not a whole run of 'circuit bench --json': " + e.getMessage(), e);
            }
            runs.add(r);
        }
        return new Side(name, List.copyOf(files), List.copyOf(runs));
    }

    /** Every call figure in both passes, then every spawn figure. */
    static List<Row> rows(Side a, Side b) {
        List<Row> rows = new ArrayList<>();
        for (Metric m : Metric.of(Metric.Group.CALLS)) {
            rows.add(row(m, false, a, b));
        }
        for (Metric m : Metric.of(Metric.Group.CALLS)) {
            rows.add(row(m, true, a, b));
        }
        for (Metric m : Metric.of(Metric.Group.SPAWN)) {
            rows.add(row(m, false, a, b));
        }
        return rows;
    }

    private static Row row(Metric m, boolean pinned, Side a, Side b) {
        Optional<Metric> floor = m.floor().filter(f -> f != m); // as Row#floor
        double[] va = measures(m, floor, pinned, a);
        double[] vb = measures(m, floor, pinned, b);
        boolean lowerIsBetter = m.kind() != Metric.Kind.RATE;
        Optional<Target> target = Target.of(m);
        int metA = target.map(t -> met(t, pinned, a)).orElse(-1);
        int metB = target.map(t -> met(t, pinned, b)).orElse(-1);
        return new Row(m, m.key(pinned), va, vb, rankTestP(va, vb),
            lowerIsBetter, metA, metB);
    }

    private static double[] measures(Metric m, Optional<Metric> floor, boolean pinned, Side side) {
        return side.runs.stream().mapToDouble(r -> floor.isPresent()
            ? r.get(m, pinned) / r.get(floor.get(), pinned)
            : r.get(m, pinned)).toArray();
    }

    /** Runs that met {@code t}; -1 where the target does not apply to this pass (it is judged in the other). */
    private static int met(Target t, boolean pinned, Side side) {
        int met = 0;
        for (Results r : side.runs) {
            Target.Verdict v = t.judge(r, pinned);
            if (v == Target.Verdict.NOT_APPLICABLE) {
                return -1;
            }
            if (v == Target.Verdict.MET) {
                met++;
            }
        }
        return met;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * The two-sided p-value of the Mann-Whitney rank test of {@code a} against {@code b}: exact, by
     * going through every way of choosing which of the pooled values are A's, up to {@link #EXACT_LIMIT}
     * ways; beyond that from the normal approximation with the correction for ties. Tied values share
     * their mean rank. 1 when either side is empty or every value is the same.
     */
    static double rankTestP(double[] a, double[] b) {
        int n = a.length;
        int total = n + b.length;
        if (n == 0 || b.length == 0) {
            return 1;
        }
        double[] pooled = new double[total];
        System.arraycopy(a, 0, pooled, 0, n);
        System.arraycopy(b, 0, pooled, n, b.length);
        double[] ranks = midRanks(pooled);
        double meanSum = n * (total + 1) / 2.0;
        double observed = 0;
        for (int i = 0; i < n; i++) {
            observed += ranks[i];
        }
        double distance = Math.abs(observed - meanSum) - 1e-9;
        if (distance <= 0) {
            return 1;
        }
        if (binomial(total, n) > EXACT_LIMIT) {
            return normalP(ranks, n, distance);
        }
        return share(rankSums(ranks, n), meanSum, distance);
    }

    /** Every rank sum that {@code n} of {@code ranks} can have, with how many of the ways of choosing them give it. */
    private static java.util.Map<Double, Long> rankSums(double[] ranks, int n) {
        java.util.Map<Double, Long> sums = new java.util.HashMap<>();
        addSums(ranks, 0, n, 0, sums);
        return sums;
    }

    private static void addSums(double[] ranks, int from, int left, double sum, java.util.Map<Double, Long> into) {
        if (left == 0) {
            into.merge(sum, 1L, Long::sum);
            return;
        }
        for (int i = from; i <= ranks.length - left; i++) {
            addSums(ranks, i + 1, left - 1, sum + ranks[i], into);
        }
    }

    /** The share of the ways in {@code sums} whose sum lies at least {@code distance} from {@code meanSum}. */
    private static double share(java.util.Map<Double, Long> sums, double meanSum, double distance) {
        long asFar = 0;
        long all = 0;
        for (var e : sums.entrySet()) {
            all += e.getValue();
            if (Math.abs(e.getKey() - meanSum) >= distance) {
                asFar += e.getValue();
            }
        }
        return (double) asFar / all;
    }

    private static double normalP(double[] ranks, int n, double distance) {
        int total = ranks.length;
        int m = total - n;
        double[] sorted = ranks.clone();
        Arrays.sort(sorted);
        double ties = 0;
        for (int i = 0; i < total; ) {
            int j = i;
            while (j < total && sorted[j] == sorted[i]) {
                j++;
            }
            double t = j - i;
            ties += t * t * t - t;
            i = j;
        }
        double variance = n * m / 12.0 * ((total + 1) - ties / ((double) total * (total - 1)));
        double z = distance / Math.sqrt(variance);
        return Math.min(1, 2 * upperTail(z));
    }

    /** P(Z > z) for a standard normal Z (Abramowitz and Stegun 7.1.26 for erfc, error below 1.5e-7). */
    private static double upperTail(double z) {
        double x = z / Math.sqrt(2);
        double t = 1 / (1 + 0.3275911 * x);
        double poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
        return 0.5 * poly * Math.exp(-x * x);
    }

    private static double[] midRanks(double[] v) {
        Integer[] order = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Double.compare(v[x], v[y]));
        double[] ranks = new double[v.length];
        for (int i = 0; i < v.length; ) {
            int j = i;
            while (j < v.length && v[order[j]] == v[order[i]]) {
                j++;
            }
            double rank = (i + 1 + j) / 2.0; // ranks i+1 .. j share their mean
            for (int k = i; k < j; k++) {
                ranks[order[k]] = rank;
            }
            i = j;
        }
        return ranks;
    }

    static double binomial(int total, int k) {
        double c = 1;
        for (int i = 1; i <= k; i++) {
            c = c * (total - k + i) / i;
        }
        return c;
    }

    /**
     * How often one row reads p &lt;= 0.05 when nothing changed, for sides of these sizes without ties: the test is
     * discrete, so that is the largest p it can give at or below 0.05 (0.029 for four runs a side, not 0.05); 0.05
     * past the exact limit.
     */
    static double chanceOfSmallP(int n, int m) {
        int total = n + m;
        if (binomial(total, n) > EXACT_LIMIT) {
            return 0.05;
        }
        double[] ranks = new double[total];
        for (int i = 0; i < total; i++) {
            ranks[i] = i + 1;
        }
        java.util.Map<Double, Long> sums = rankSums(ranks, n);
        double meanSum = n * (total + 1) / 2.0;
        double best = 0;
        for (double sum : sums.keySet()) {
            double p = share(sums, meanSum, Math.abs(sum - meanSum) - 1e-9);
            if (p <= 0.05 && p > best) {
                best = p;
            }
        }
        return best;
    }

    /** The smallest two-sided p that sides of these sizes can reach: both orders of a complete separation. */
    static double smallestP(int n, int m) {
        return Math.min(1, 2 / binomial(n + m, n));
    }

    private static void print(Side a, Side b, List<Row> rows, PrintStream out) {
        out.printf(Locale.ROOT, "JCircuit bench compare: A = %s; B = %s%n", describe(a), describe(b));
        out.println("Each figure with a floor is compared through its ratio to that floor within its own run (\"x ...\"),"
            + " as the bench's table shows it;");
        out.println("the others as measured. Medians over the runs, [lowest-highest]; p: two-sided rank test of A against"
            + " B (Mann-Whitney, exact" + (binomial(a.runs.size() + b.runs.size(), a.runs.size()) > EXACT_LIMIT
                ? "ly up to " + EXACT_LIMIT + " splits of the runs; here the normal approximation" : "") + ");");
        out.println("\"moved\": a figure of the machine, the peers or the noise (raw TCP, RMI, hello, the A/B's spread) that"
            + " differs; met: runs whose verdict was yes (not \"?\").");
        out.printf(Locale.ROOT, ROW, "figure", "measure", "A", "B", "B/A", "p", "", "met A", "met B");
        for (Row r : rows) {
            out.printf(Locale.ROOT, ROW, r.key(), label(r), spread(r, r.a()), spread(r, r.b()),
                Table.threeDigits(r.medianA() == 0 ? Double.NaN : r.medianB() / r.medianA()), pValue(r.p()), r.verdict(),
                metText(r.metA(), a.runs.size()), metText(r.metB(), b.runs.size()));
        }
        double smallest = smallestP(a.runs.size(), b.runs.size());
        out.printf(Locale.ROOT, "With %d and %d runs the smallest p possible is %s%s%n", a.runs.size(), b.runs.size(),
            pValue(smallest), smallest > 0.05 ? ": no difference can be told from noise with this few runs" : ".");
        if (smallest <= 0.05) {
            long judged = rows.stream().filter(r -> !reference(r.metric())).count();
            double chance = chanceOfSmallP(a.runs.size(), b.runs.size());
            out.printf(Locale.ROOT, "Of the %d rows that can read better or worse, about %.1f do so by chance alone when"
                + " nothing changed (%s each): a lone one on a figure the change does not run is noise.%n", judged,
                judged * chance, pValue(chance));
        }
        for (boolean pinned : new boolean[] {false, true}) {
            List<String> moved = rows.stream().filter(r -> r.verdict().equals("moved")
                    && r.metric().isFloor()
                    && r.key().endsWith(Metric.PINNED_SUFFIX) == pinned)
                .map(Row::key).toList();
            if (!moved.isEmpty()) {
                out.printf(Locale.ROOT, "A floor moved (%s): the ratios to it %s move with it, whatever the build.%n",
                    String.join(", ", moved), pinned ? "in the 1-CPU pass" : "in the unpinned pass or of the spawns");
            }
        }
    }

    private static String describe(Side s) {
        return s.runs.size() + (s.runs.size() == 1 ? " run (" : " runs (")
            + String.join(", ", s.files.stream().map(f -> f.getFileName().toString()).toList()) + ")";
    }

    /** "x tcp", "x rmi", "x pipe" or "x hello" for a ratio to that floor, "value" for a figure compared as measured. */
    private static String label(Row r) {
        return r.floor().map(f -> switch (f) {
            case RMI_CALLS_8 -> "x rmi";
            case TCP_PIPELINED -> "x pipe";
            case JVM_HELLO -> "x hello";
            default -> "x tcp";
        }).orElse("value");
    }

    /**
     * The median and range of one side: a ratio as it is, a figure measured in the unit the bench's table gives
     * its median ({@code 26.8 [24.6-28.9] us}, {@code 11.9 [10.7-13.2] M/s}).
     */
    private static String spread(Row r, double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        double median = median(v);
        double divisor = 1;
        String unit = "";
        if (r.floor().isEmpty()) {
            switch (r.metric().kind()) {
                case RTT -> unit = "us";
                case MILLIS -> unit = "ms";
                case MEGABYTES -> unit = "MB";
                case PERCENT -> unit = "%";
                case RATE -> {
                    divisor = median >= 1_000_000 ? 1_000_000 : 1_000;
                    unit = divisor == 1_000 ? "k/s" : "M/s";
                }
            }
        }
        return Table.threeDigits(median / divisor) + " [" + Table.threeDigits(s[0] / divisor) + "-"
            + Table.threeDigits(s[s.length - 1] / divisor) + "]"
            + (unit.isEmpty() ? "" : " " + unit);
    }

    private static String pValue(double p) {
        return String.format(Locale.ROOT, p < 0.001 ? "%.1e" : "%.3f", p);
    }

    private static String metText(int met, int runs) {
        return met < 0 ? "" : met + "/" + runs;
    }

    private static String toJson(Side a, Side b, List<Row> rows) {
        StringBuilder sb = new StringBuilder("{\"a_runs\":").append(a.runs.size()).append(",\"b_runs\":")
            .append(b.runs.size()).append(",\"figures\":[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            if (i > 0) {
                sb.append(',');
            }
            sb.append("{\"key\":\"").append(r.key()).append("\",\"measure\":\"").append(r.measure())
                .append("\",\"a\":").append(array(r.a())).append(",\"b\":").append(array(r.b()))
                .append(",\"a_median\":").append(jsonNumber(r.medianA())).append(",\"b_median\":")
                .append(jsonNumber(r.medianB())).append(",\"p\":").append(jsonNumber(r.p()))
                .append(",\"verdict\":\"").append(r.verdict()).append('"');
            if (r.metA() >= 0) {
                sb.append(",\"met_a\":").append(r.metA()).append(",\"met_b\":").append(r.metB());
            }
            sb.append('}');
        }
        return sb.append("]}").toString();
    }

    private static String array(double[] v) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) {
            sb.append(i > 0 ? "," : "").append(jsonNumber(v[i]));
        }
        return sb.append(']').toString();
    }

    private static String jsonNumber(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }
}
