package io.jcircuit.host;

import io.jcircuit.runtime.host.WorkerMain;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * Copies a worker JVM's stdout into its stdout file, byte for byte and as the bytes come, and picks out
 * the control lines {@link WorkerMain} prints for its host: {@code READY <id> <address>} (a warm JVM's
 * runtime is up) and {@code WORKER <id> <address>} (the worker announces itself).
 *
 * <p>Every read is written to the file at once, so what a worker prints without a line break (a
 * progress counter, a prompt) is there while it runs, and the copier holds at most
 * {@value #MAX_CONTROL_LINE} bytes whatever the worker prints: a host that read whole lines held a
 * worker's unfinished line in its own heap, and one long run of output took it down. Only a line that
 * can still be a control line is held back: one that begins at a line start while its control line has
 * not come, made of printable ASCII, shorter than {@value #MAX_CONTROL_LINE} bytes, and that begins
 * with {@code READY } or {@code WORKER }. A line that cannot be one goes through as soon as that is
 * clear, and once the worker has announced itself nothing more is picked out.
 *
 * <p><b>Note:</b> not thread-safe; one thread copies one worker's output.
 */
final class WorkerStdout {

    /** A control line is shorter than this: {@code WORKER }, a 17-character id, and an address. */
    static final int MAX_CONTROL_LINE = 512;
    static final int CHUNK = 64 * 1024;

    private static final byte[] READY = WorkerMain.READY.getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ANNOUNCE = WorkerMain.ANNOUNCE.getBytes(StandardCharsets.US_ASCII);

    private final OutputStream out;
    private final CompletableFuture<String> ready;
    private final CompletableFuture<String> announced;
    /** The start of the current line, held while it may be a control line. */
    private final byte[] held = new byte[MAX_CONTROL_LINE];
    private int heldBytes;
    /** Whether the current line may still be a control line: it began at a line start and fits so far. */
    private boolean candidate = true;

    /**
     * @param out       the stdout file; each chunk is written to it as it comes
     * @param ready     completed with the first {@code READY} line
     * @param announced completed with the first {@code WORKER} line; nothing is picked out after it
     */
    WorkerStdout(OutputStream out, CompletableFuture<String> ready, CompletableFuture<String> announced) {
        this.out = out;
        this.ready = ready;
        this.announced = announced;
    }

    /** Copies {@code in} until it ends. Blocks reading it; the bytes of a line cut short by its end are written too. */
    void copy(InputStream in) throws IOException {
        byte[] buf = new byte[CHUNK];
        for (int n; (n = in.read(buf)) >= 0; ) {
            accept(buf, 0, n);
        }
        end();
    }

    /** Takes the next {@code len} bytes of the worker's stdout. */
    void accept(byte[] b, int off, int len) throws IOException {
        int i = off;
        int end = off + len;
        while (i < end) {
            if (announced.isDone()) {
                // no control line comes after the announcement
                writeHeld();
                candidate = false;
                out.write(b, i, end - i);
                return;
            }
            if (!candidate) {
                int nl = indexOf(b, i, end, (byte) '\n');
                if (nl < 0) {
                    out.write(b, i, end - i);
                    return;
                }
                out.write(b, i, nl + 1 - i);
                i = nl + 1;
                candidate = true;
                continue;
            }
            byte c = b[i++];
            if (c == '\n') {
                if (!take()) {
                    writeHeld();
                    out.write('\n');
                }
                heldBytes = 0;
                continue;
            }
            held[heldBytes++] = c;
            if (!mayBeControl()) {
                writeHeld();
                candidate = false;
            }
        }
        out.flush();
    }

    /** The worker's stdout has ended: what was held of an unfinished line is written. */
    void end() throws IOException {
        writeHeld();
        out.flush();
    }

    /** Whether the held bytes can still grow into a control line that has not come yet. */
    private boolean mayBeControl() {
        if (heldBytes >= MAX_CONTROL_LINE) {
            return false;
        }
        byte c = held[heldBytes - 1];
        if ((c < 0x20 || c > 0x7e) && c != '\r') {
            return false;
        }
        return !ready.isDone() && startsAs(READY) || !announced.isDone() && startsAs(ANNOUNCE);
    }

    /** Whether the held bytes and {@code prefix} agree as far as both go. */
    private boolean startsAs(byte[] prefix) {
        for (int k = 0; k < Math.min(heldBytes, prefix.length); k++) {
            if (held[k] != prefix[k]) {
                return false;
            }
        }
        return true;
    }

    /** Completes the future of the control line held, if it is one; returns whether it was. */
    private boolean take() {
        int n = heldBytes > 0 && held[heldBytes - 1] == '\r' ? heldBytes - 1 : heldBytes;
        String line = new String(held, 0, n, StandardCharsets.US_ASCII);
        if (!ready.isDone() && line.startsWith(WorkerMain.READY)) {
            return ready.complete(line);
        }
        if (!announced.isDone() && line.startsWith(WorkerMain.ANNOUNCE)) {
            return announced.complete(line);
        }
        return false;
    }

    private void writeHeld() throws IOException {
        if (heldBytes > 0) {
            out.write(held, 0, heldBytes);
            heldBytes = 0;
        }
    }

    private static int indexOf(byte[] b, int from, int to, byte x) {
        for (int k = from; k < to; k++) {
            if (b[k] == x) {
                return k;
            }
        }
        return -1;
    }
}
