package io.jcircuit;

/**
 * One value of the durable store, as listed.
 *
 * @param path     the value's full path
 * @param bytes    the size of its stored form
 * @param object   true for a value put as an object, false for raw bytes
 * @param revision the revision at which it was last written
 */
public record Stored(String path, int bytes, boolean object, long revision) {

    /** The last component of the path. */
    public String name() {
        return path.substring(path.lastIndexOf('/') + 1);
    }
}
