package io.jcircuit.cli;

import java.io.PrintWriter;

/**
 * A one-line progress bar on the error stream, redrawn in place with carriage returns at most every
 * 100 ms: {@code label [##########..........]  52% 130/250 MiB}. It writes nothing under {@code --json},
 * and ends its line when done. Not on a terminal it draws the finished bar only, once.
 */
final class Progress {

    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final String label;
    private final boolean quiet;
    private long lastDraw;
    private String lastText = "";

    /** Redraw in place; off when the output goes to a file or a pipe, where only the last state is drawn. */
    private final boolean redraw;

    Progress(PrintWriter err, String label, boolean quiet) {
        this(err, label, quiet, onTerminal());
    }

    Progress(PrintWriter err, String label, boolean quiet, boolean redraw) {
        this.err = err;
        this.label = label;
        this.quiet = quiet;
        this.redraw = redraw;
    }

    /** True when this process talks to a terminal (JDK 22's {@link java.io.Console#isTerminal}). */
    static boolean onTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** Shows {@code done} of {@code total}, with {@code detail} after the bar. */
    void show(long done, long total, String detail) {
        if (quiet) {
            return;
        }
        long now = System.nanoTime();
        if (done < total && (!redraw || now - lastDraw < 100_000_000L)) {
            return;
        }
        draw(done, total, detail, now);
    }

    /**
     * Draws the bar as the work ended, {@code done} of {@code total}, also short of the total (a part
     * failed), and ends its line.
     */
    void end(long done, long total, String detail) {
        if (!quiet) {
            draw(done, total, detail, System.nanoTime());
        }
        done();
    }

    private void draw(long done, long total, String detail, long now) {
        if (!redraw && !lastText.isEmpty()) {
            return; // drawn once, finished: a command that shows the total again (a countdown that waits on) adds nothing
        }
        lastDraw = now;
        int filled = total <= 0 ? 0 : (int) Math.min(WIDTH, done * WIDTH / total);
        int pct = total <= 0 ? 0 : (int) Math.min(100, done * 100 / total);
        String text = label + " [" + "#".repeat(filled) + ".".repeat(WIDTH - filled) + "] " + String.format("%3d%%", pct)
            + " " + detail;
        err.print(redraw ? "\r" + text + " ".repeat(Math.max(0, lastText.length() - text.length())) : text);
        err.flush();
        lastText = text;
    }

    /** Ends the bar's line. */
    void done() {
        if (!quiet && !lastText.isEmpty()) {
            err.println();
            err.flush();
        }
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
