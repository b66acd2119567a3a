package io.jcircuit.cli;

import io.jcircuit.runtime.host.Deployment;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The jars a worker needs beside a deployment's jar, and an application run by {@code circuit run}
 * beside its own: this JVM's class path without the jars the launcher carries only for its demo and its
 * bench. The build lists the others in {@value #LIST} in {@code lib/}. Without that list (tests, an IDE),
 * the whole class path.
 *
 * <p>Before this, a swap's replacement had the launcher's whole {@code lib/} behind the new jar, the
 * examples jar among it: a class the new jar lacked silently came from there.
 */
final class RuntimeJars {

    static final String LIST = "runtime.classpath";

    private RuntimeJars() {
    }

    /** The runtime class path of this JVM: {@link Deployment#RUNTIME_CLASSPATH_PROPERTY} if set, else {@link #of}. */
    static String classpath() {
        String set = System.getProperty(Deployment.RUNTIME_CLASSPATH_PROPERTY);
        return set != null && !set.isBlank() ? set : of(System.getProperty("java.class.path"));
    }

    /**
     * {@code classpath} without the jars of a {@code lib/} directory that its {@value #LIST} does not
     * name; entries outside such a directory stay, in their order.
     */
    static String of(String classpath) {
        List<String> kept = new ArrayList<>();
        Path listedDir = null;
        Set<String> listed = Set.of();
        for (String entry : classpath.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            Path dir = Path.of(entry).toAbsolutePath().getParent();
            Path list = dir == null ? null : dir.resolve(LIST);
            if (list == null || !Files.isRegularFile(list)) {
                kept.add(entry);
                continue;
            }
            if (!dir.equals(listedDir)) {
                listedDir = dir;
                listed = names(list);
            }
            if (listed == null || listed.contains(Path.of(entry).getFileName().toString())) {
                kept.add(entry);
            }
        }
        return String.join(File.pathSeparator, kept);
    }

    /**
     * The jar names in {@code list}: {@code lib/a.jar:lib/b.jar}, as maven-dependency-plugin writes it; null
     * when it cannot be read, which keeps the directory's jars (a worker with a jar too many still runs).
     */
    private static Set<String> names(Path list) {
        try {
            Set<String> names = new HashSet<>();
            for (String e : Files.readString(list, StandardCharsets.UTF_8).strip().split("[:\\n]")) {
                if (!e.isBlank()) {
                    names.add(e.substring(e.lastIndexOf('/') + 1).strip());
                }
            }
            return names;
        } catch (IOException e) {
            System.err.println("circuit: cannot read " + list + " (" + e + "); workers get all of " + list.getParent());
            return null;
        }
    }
}
