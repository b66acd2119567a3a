package io.jcircuit;

import java.util.List;
import java.util.Objects;

/**
 * What a directory of the namespace or the durable store held at one revision.
 *
 * @param path        the directory listed
 * @param revision    the greatest ZooKeeper transaction id that touched the directory or what it
 *                    lists, a subdirectory's contents at any depth included as far as they decide
 *                    whether it is listed: it grows with every change while the directory exists,
 *                    and is 0 when it does not or is empty; equal revisions mean equal content
 * @param entries     the entries, sorted by path
 * @param directories the non-empty subdirectories, as full paths, sorted
 * @param <E>         {@link Entry} for anchors, {@link Stored} for the durable store
 */
public record Listing<E>(String path, long revision, List<E> entries, List<String> directories) {

    public Listing {
        Objects.requireNonNull(path, "path");
        entries = List.copyOf(entries);
        directories = List.copyOf(directories);
    }

    /** True when the directory holds neither entries nor subdirectories (or does not exist). */
    public boolean isEmpty() {
        return entries.isEmpty() && directories.isEmpty();
    }
}
