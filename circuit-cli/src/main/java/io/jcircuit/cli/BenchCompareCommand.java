package io.jcircuit.cli;

import io.jcircuit.bench.Bench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code circuit bench compare}: two sets of saved bench runs, figure by figure, with a rank test of each. */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Compare two sets of bench runs, each saved with 'circuit bench --json > FILE', such as the runs of "
        + "two builds taken in turn (bench/ab in the source tree does that).",
        "Figures with a floor are compared through their ratio to it within each run (x tcp, x rmi, x pipe, x hello), "
            + "as the bench's table shows them; the others as measured. For each: the median and range of each side, "
            + "B/A, the p of a two-sided rank test (Mann-Whitney; exact up to eleven runs a side, the normal "
            + "approximation past that), and the runs that met the target."})
final class BenchCompareCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "1", split = ",", paramLabel = "A", description = "Side A's runs: files, separated by commas.")
    List<Path> a;

    @Parameters(index = "1", arity = "1", split = ",", paramLabel = "B", description = "Side B's runs: files, separated by commas.")
    List<Path> b;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Override
    public Integer call() {
        return Bench.compare(a, b, json, System.out, System.err);
    }
}
