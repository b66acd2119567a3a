package io.jcircuit.bench;

/** A child JVM for {@link ChildJvmTest}: {@code answer}, {@code fail} or {@code hang}. */
public final class TestChild {

    private TestChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.out.println("not a protocol line");
        switch (args[0]) {
            case "answer" -> System.out.println("BENCH-ANSWER 42");
            case "fail" -> {
                System.err.println("boom: no answer today");
                System.exit(7);
            }
            case "hang" -> {
                System.out.println("BENCH-ANSWER 0");
                System.out.flush();
                Thread.sleep(Long.MAX_VALUE); // ignores its stdin: only destroyForcibly ends it
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }
}
