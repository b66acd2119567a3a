package io.jcircuit.runtime.host;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Objects;
import java.util.Properties;

/**
 * One version of an application jar recorded by {@code circuit deploy}, kept in the durable store at
 * {@code /deployments/<name>/<version>} as UTF-8 {@code key=value} lines, signed with the cluster key
 * when there is one ({@link Deployments} reads and writes them). The jar itself sits in every host's
 * jar cache under its SHA-256; the store holds only what names it. Versions of a name count 1, 2,
 * 3, …, one per distinct jar.
 *
 * @param name                  what the deployment is called, e.g. {@code app}
 * @param version               1 for the first jar deployed under {@code name}, then one more per new jar
 * @param sha256                the jar's SHA-256, lower-case hex
 * @param size                  the jar's size in bytes
 * @param fileName              the jar's file name when deployed
 * @param deployed              when it was deployed
 * @param implementationVersion the {@code Implementation-Version} of the jar's manifest, or "" when none
 * @param removed               when {@code circuit deploy --remove} removed it, or null while it is deployed. A
 *                              removed version keeps its record (and its number, which no later jar takes), but
 *                              no spawn or swap can name it, and hosts let its jar go
 */
public record Deployment(String name, int version, String sha256, long size, String fileName, Instant deployed,
                         String implementationVersion, Instant removed) {

    /** The durable directory that holds one directory per deployment name. */
    public static final String ROOT = "/deployments";
    /** The metadata keys a worker files its code version under. */
    public static final String CODE_KEY = "code";
    public static final String CODE_HASH_KEY = "codeHash";
    /** The {@value #CODE_KEY} of a worker that runs its spawner's classpath rather than a deployment. */
    public static final String SPAWNER_CLASSPATH = "spawner classpath";
    /**
     * The system property that names the JCircuit runtime's own classpath, without any application
     * jar; a spawn on a deployment ships it behind the deployment's jar. {@code circuit run} sets it.
     */
    public static final String RUNTIME_CLASSPATH_PROPERTY = "circuit.runtime.classpath";

    public Deployment {
        checkName(name);
        if (version < 1) {
            throw new IllegalArgumentException("version=" + version + " of deployment " + name + " must be 1 or more");
        }
        if (!sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("sha256='" + sha256 + "' of deployment " + name + " is not 64 hex digits");
        }
        Objects.requireNonNull(fileName, "fileName");
        Objects.requireNonNull(deployed, "deployed");
        implementationVersion = implementationVersion == null ? "" : implementationVersion;
    }

    /** A deployment that is not removed. */
    public Deployment(String name, int version, String sha256, long size, String fileName, Instant deployed,
                      String implementationVersion) {
        this(name, version, sha256, size, fileName, deployed, implementationVersion, null);
    }

    /** True when {@code circuit deploy --remove} removed this version. */
    public boolean isRemoved() {
        return removed != null;
    }

    /** This version, removed at {@code when}. */
    public Deployment removedAt(Instant when) {
        return new Deployment(name, version, sha256, size, fileName, deployed, implementationVersion, Objects.requireNonNull(when, "when"));
    }

    /** Refuses a name that is not letters, digits, '.', '_' and '-' (starting with a letter or digit). */
    public static String checkName(String name) {
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("bad deployment name '" + name
                + "': use letters, digits, '.', '_' and '-', starting with a letter or digit");
        }
        return name;
    }

    /** Where this deployment is stored. */
    public String path() {
        return ROOT + "/" + name + "/" + version;
    }

    /** {@code NAME:VERSION}, as a worker's {@value #CODE_KEY} metadata and {@code ls -l} show it. */
    public String label() {
        return name + ":" + version;
    }

    /** The first 12 hex digits of the hash, as a worker's {@value #CODE_HASH_KEY} metadata shows it. */
    public String shortHash() {
        return sha256.substring(0, 12);
    }

    /** The jar, as a spawn names it on a worker's classpath. */
    public JarRef jar() {
        return new JarRef(sha256, size, fileName);
    }

    /** The stored form. */
    public byte[] encode() {
        Properties p = new Properties();
        p.setProperty("name", name);
        p.setProperty("version", Integer.toString(version));
        p.setProperty("sha256", sha256);
        p.setProperty("size", Long.toString(size));
        p.setProperty("file", fileName);
        p.setProperty("deployed", deployed.toString());
        p.setProperty("implementationVersion", implementationVersion);
        if (removed != null) {
            p.setProperty("removed", removed.toString());
        }
        StringWriter w = new StringWriter();
        try {
            p.store(w, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // drop the date comment Properties.store writes, so equal deployments store equal bytes
        String text = w.toString().lines().filter(l -> !l.startsWith("#")).reduce("", (a, l) -> a + l + "\n");
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads a deployment stored at {@code path}.
     *
     * @throws IllegalArgumentException when {@code bytes} are not one, or one stored at another path, naming {@code path}
     */
    public static Deployment decode(String path, byte[] bytes) {
        Properties p = new Properties();
        Deployment d;
        try {
            p.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
            d = new Deployment(p.getProperty("name"), Integer.parseInt(p.getProperty("version", "0")),
                p.getProperty("sha256", ""), Long.parseLong(p.getProperty("size", "-1")), p.getProperty("file", "app.jar"),
                Instant.parse(p.getProperty("deployed", "1970-01-01T00:00:00Z")), p.getProperty("implementationVersion"),
                p.getProperty("removed") == null ? null : Instant.parse(p.getProperty("removed")));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("the value at " + path + " is not a deployment: " + e.getMessage(), e);
        }
        if (!d.path().equals(path)) {
            throw new IllegalArgumentException("the value at " + path + " is not a deployment of that path: it names " + d.label());
        }
        return d;
    }
}
