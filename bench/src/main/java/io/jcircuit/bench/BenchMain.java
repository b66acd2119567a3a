package io.jcircuit.bench;

/**
 * Runs the bench without the CLI: {@code java -cp ... io.jcircuit.bench.BenchMain [--quick] [--json]}.
 * Exits with {@link Bench#run}'s code, or 2 on a bad argument.
 */
public final class BenchMain {

    private BenchMain() {
    }

    public static void main(String[] args) {
        boolean quick = false;
        boolean json = false;
        for (String a : args) {
            switch (a) {
                case "--quick" -> quick = true;
                case "--json" -> json = true;
                case "-h", "--help" -> {
                    System.out.println(usage());
                    return;
                }
                default -> {
                    System.err.println("unknown argument '" + a + "'. " + usage());
                    System.exit(2);
                }
            }
        }
        System.exit(Bench.run(new Options(quick, json), System.out, System.err));
    }

    private static String usage() {
        return "usage: BenchMain [--quick] [--json]  (--quick: about 85 s; --json: one JSON object instead of the table)";
    }
}
