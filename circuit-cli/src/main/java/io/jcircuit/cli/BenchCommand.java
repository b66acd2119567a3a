package io.jcircuit.cli;

import io.jcircuit.bench.Bench;
import io.jcircuit.bench.Options;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code circuit bench}: the runtime measured beside raw TCP and Java RMI, in one run. */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = BenchCompareCommand.class,
    description = {"Measure calls beside raw TCP and Java RMI on loopback, unpinned and on 1 CPU, and spawns beside a "
        + "hello-world JVM start.",
        "Runs every call comparison twice: unpinned, then with both JVMs under taskset -c 0 (keys suffixed _1cpu).",
        "Then spawns worker JVMs through host daemons once: cold, from the warm pool, and an idle worker's RSS.",
        "'circuit bench compare A.json B.json' sets saved runs side by side."})
final class BenchCommand implements Callable<Integer> {

    @Option(names = "--quick", description = "Fewer iterations; about 110 s on 2 cores.")
    boolean quick;

    @Option(names = "--json", description = "Print one JSON object instead of the table.")
    boolean json;

    @Override
    public Integer call() {
        return Bench.run(new Options(quick, json), System.out, System.err);
    }
}
