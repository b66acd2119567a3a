package io.jcircuit.runtime.ops;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Stacks folded into the "collapsed" form that flame graph tools read: one line per distinct
 * stack, frames from the root to the leaf separated by {@code ;}, then a space and the stack's
 * weight, as in {@code java.lang.Thread.run;com.example.Worker.loop;com.example.Worker.parse 42}.
 *
 * <p>The weight is what the profile counts: samples, bytes or nanoseconds
 * ({@link ProfileKind#unit()}). {@link #samples()} separately counts the events that were folded
 * in, so an allocation profile can say "312 samples, 1.2 GB".
 *
 * <p>Frame names are the engine's own: JFR gives {@code java.lang.Thread.run}, async-profiler
 * {@code java/lang/Thread.run}. Instances are immutable; build one with {@link #builder()}.
 */
public final class CollapsedStacks {

    private final Map<String, Long> weights;
    private final long samples;
    private final long totalWeight;

    private CollapsedStacks(Map<String, Long> weights, long samples) {
        this.weights = Collections.unmodifiableMap(weights);
        this.samples = samples;
        long total = 0;
        for (long weight : weights.values()) {
            total += weight;
        }
        this.totalWeight = total;
    }

    /** A builder that folds stacks one event at a time. Not thread-safe. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads the collapsed text form. Blank lines are skipped; a line without a trailing weight is
     * refused. The text carries no event count, so {@link #samples()} is the number of lines read.
     */
    public static CollapsedStacks parse(String text) {
        Builder builder = builder();
        text.lines().filter(line -> !line.isBlank()).forEach(line -> {
            int space = line.lastIndexOf(' ');
            try {
                builder.addFolded(line.substring(0, space), Long.parseLong(line.substring(space + 1).strip()));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("not a collapsed stack line (frames;... weight): \"" + line + "\"", e);
            }
        });
        return builder.build();
    }

    /** Each distinct stack (frames root first, joined with {@code ;}) and its summed weight, sorted by stack. */
    public Map<String, Long> stacks() {
        return weights;
    }

    /** How many events were folded in. */
    public long samples() {
        return samples;
    }

    /** The sum of all weights: the width of the flame graph's root. */
    public long totalWeight() {
        return totalWeight;
    }

    public boolean isEmpty() {
        return weights.isEmpty();
    }

    /** The summed weight of every stack that has a frame containing {@code text}. */
    public long weightOfFramesContaining(String text) {
        long weight = 0;
        for (Map.Entry<String, Long> stack : weights.entrySet()) {
            if (stack.getKey().contains(text)) {
                weight += stack.getValue();
            }
        }
        return weight;
    }

    /** The collapsed text form, one {@code frames weight} line per stack. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        weights.forEach((stack, weight) -> text.append(stack).append(' ').append(weight).append('\n'));
        return text.toString();
    }

    /** Folds stacks into a {@link CollapsedStacks}. */
    public static final class Builder {
        private final Map<String, Long> weights = new TreeMap<>();
        private long samples;

        private Builder() {
        }

        /**
         * Adds one event. {@code framesRootFirst} must not be empty; a {@code ;} or line break
         * inside a frame name is replaced by {@code _} so the text form stays parseable.
         */
        public Builder add(List<String> framesRootFirst, long weight) {
            if (framesRootFirst.isEmpty()) {
                throw new IllegalArgumentException("a stack needs at least one frame");
            }
            StringBuilder stack = new StringBuilder();
            for (String frame : framesRootFirst) {
                if (!stack.isEmpty()) {
                    stack.append(';');
                }
                stack.append(frame.replace(';', '_').replace('\n', '_').replace('\r', '_'));
            }
            return addFolded(stack.toString(), weight);
        }

        private Builder addFolded(String stack, long weight) {
            if (weight < 0) {
                throw new IllegalArgumentException("weight must not be negative: " + weight);
            }
            weights.merge(stack, weight, Long::sum);
            samples++;
            return this;
        }

        public CollapsedStacks build() {
            return new CollapsedStacks(new TreeMap<>(weights), samples);
        }
    }
}
