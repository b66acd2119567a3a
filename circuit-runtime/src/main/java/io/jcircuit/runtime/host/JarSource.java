package io.jcircuit.runtime.host;

/** The spawner's jars, read in chunks by a host that lacks them; exported as a reference. */
public interface JarSource {

    /** The largest chunk a host asks for. */
    int CHUNK = 1 << 20;

    /**
     * Up to {@code length} bytes of the jar {@code sha256} from {@code offset}; fewer only at its end.
     *
     * @throws IllegalArgumentException when this spawner has no such jar
     */
    byte[] read(String sha256, long offset, int length);
}
