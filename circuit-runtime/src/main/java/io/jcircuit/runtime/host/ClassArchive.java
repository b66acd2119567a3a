package io.jcircuit.runtime.host;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The AppCDS archive a worker writes for its host, when the host asks it to (one JVM per archive at
 * a time; see {@code HostDaemon}). The JVM is started with {@code -XX:+RecordDynamicDumpInfo} and
 * {@value #PROPERTY} naming the archive; the worker writes it once, through the JVM's own
 * {@code VM.cds dynamic_dump} diagnostic command, either a little after it has started serving (the
 * classes of its start-up and first calls are loaded by then) or when it exits normally, whichever
 * comes first. A worker that is killed first writes nothing, and the host asks the next one.
 *
 * <p>Unlike {@code -XX:+AutoCreateSharedArchive}, which writes only at a normal exit, this also works
 * for workers that live until they are killed, as most that hold references do. The archive is
 * written to a temporary file and moved into place, so no JVM maps half of one.
 */
final class ClassArchive {

    /** The system property naming the archive this JVM is to write. */
    static final String PROPERTY = "jcircuit.cds.dump";

    private final Path target;
    private final AtomicBoolean written = new AtomicBoolean();

    private ClassArchive(Path target) {
        this.target = target;
    }

    /** The archive this JVM was asked to write, or null. */
    static ClassArchive asked() {
        String p = System.getProperty(PROPERTY);
        return p == null || p.isBlank() ? null : new ClassArchive(Path.of(p));
    }

    /** Writes the archive unless this JVM already has, or another JVM wrote it meanwhile. Never throws. */
    void writeOnce() {
        if (!written.compareAndSet(false, true) || Files.exists(target)) {
            return;
        }
        Path tmp = target.resolveSibling(target.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        long t0 = System.nanoTime();
        try {
            Object said = ManagementFactory.getPlatformMBeanServer().invoke(
                new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "vmCds",
                new Object[] {new String[] {"dynamic_dump", tmp.toString()}}, new String[] {String[].class.getName()});
            if (!Files.exists(tmp)) {
                System.err.println("class archive " + target + " not written: " + String.valueOf(said).strip());
                return;
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            System.err.printf("class archive %s written in %d ms%n", target, (System.nanoTime() - t0) / 1_000_000);
        } catch (Exception | LinkageError e) {
            System.err.println("class archive " + target + " not written: " + e);
            try {
                Files.deleteIfExists(tmp);
            } catch (java.io.IOException ignored) {
                // a stray temporary file; the next writer uses its own name
            }
        }
    }
}
