package io.jcircuit.runtime.ops;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One row of a class histogram of the heap ({@link Diagnostics#heapHistogramRows}): the class
 * with the {@code rank}-th most bytes, its number of instances and their shallow size.
 *
 * @param rank      1 for the class holding the most bytes
 * @param instances live instances of the class
 * @param bytes     their shallow size, in bytes
 * @param className the JVM's name for the class, as {@code java.lang.String}, {@code [B} or
 *                  {@code com.example.Outer$Inner}, without the module the histogram prints after it
 */
public record HistogramRow(int rank, long instances, long bytes, String className) {

    // "   1:         22268        1260872  [B (java.base@25.0.3)"
    private static final Pattern ROW = Pattern.compile("^\\s*(\\d+):\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)(?:\\s+\\(.*\\))?\\s*$");

    /** The row on a line of {@code GC.class_histogram} output, or empty if the line is not a row (header, total). */
    public static Optional<HistogramRow> parse(String line) {
        Matcher m = ROW.matcher(line);
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new HistogramRow(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)),
            Long.parseLong(m.group(3)), m.group(4)));
    }
}
