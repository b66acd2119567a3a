package io.jcircuit.runtime.host;

/** One classpath jar, by content: its SHA-256 in hex, its size, and a name for humans. */
public record JarRef(String sha256, long size, String name) {
}
