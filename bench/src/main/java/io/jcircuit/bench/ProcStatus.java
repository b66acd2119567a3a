package io.jcircuit.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The resident memory of a process, from Linux's {@code /proc/<pid>/status}: {@code VmRSS} and its
 * parts ({@code RssAnon}: heap, metaspace, code cache, thread stacks; {@code RssFile}: mapped files
 * such as the JDK's modules, CDS archives and jars; {@code RssShmem}). All in MiB.
 */
record ProcStatus(double rssMb, double anonMb, double fileMb, double shmemMb) {

    private static final double KB_PER_MB = 1024;

    /**
     * Reads the status of process {@code pid}.
     *
     * @throws BenchException when the process is gone or this is not Linux
     */
    static ProcStatus read(long pid) throws IOException {
        Path file = Path.of("/proc", Long.toString(pid), "status");
        if (!Files.isReadable(file)) {
            throw new BenchException("cannot read " + file + ": the worker is gone, or this is not Linux");
        }
        return parse(Files.readAllLines(file));
    }

    /**
     * Reads the lines of a status file ({@code VmRSS:    87452 kB}).
     *
     * @throws BenchException when one of the four sizes is missing
     */
    static ProcStatus parse(List<String> lines) {
        Map<String, Double> kb = new HashMap<>();
        for (String line : lines) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length == 3 && parts[0].endsWith(":") && parts[2].equals("kB")) {
                kb.put(parts[0].substring(0, parts[0].length() - 1), Double.parseDouble(parts[1]));
            }
        }
        for (String field : List.of("VmRSS", "RssAnon", "RssFile", "RssShmem")) {
            if (!kb.containsKey(field)) {
                throw new BenchException("no " + field + " in the process status " + lines);
            }
        }
        return new ProcStatus(kb.get("VmRSS") / KB_PER_MB, kb.get("RssAnon") / KB_PER_MB,
            kb.get("RssFile") / KB_PER_MB, kb.get("RssShmem") / KB_PER_MB);
    }
}
