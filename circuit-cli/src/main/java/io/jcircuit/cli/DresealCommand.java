package io.jcircuit.cli;

import io.jcircuit.Stored;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.Paths;
import io.jcircuit.link.tls.ClusterKey;
import io.jcircuit.runtime.ClusterSeal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code circuit dreseal}: seals anew, with their kind bound ({@link ClusterSeal}), the signed values of the
 * durable store that builds before the kind was bound sealed, so that none is left whose kind byte anyone who
 * can write to ZooKeeper could change. A value is rewritten only while it is as read, so a value put meanwhile
 * is never overwritten; one whose signature is not this cluster key's for its path is left alone and named.
 */
@Command(name = "dreseal", mixinStandardHelpOptions = true,
    description = {"Re-seal the durable store's signed values with the cluster key, binding each to its kind.",
        "JCircuit builds before the seal covered a value's kind (signed object or signed bytes) sealed values that "
            + "are still read, with a warning; this seals every such value at or below PATH (default /) anew, once its "
            + "signature is checked. Values sealed so already, and unsigned ones, are left as they are. A value whose "
            + "signature is not the key's for its path is named on stderr and left alone, and so is one changed while it "
            + "was re-sealed; either makes the exit status 1.",
        "Example: circuit dreseal --key ~/.jcircuit/cluster.key"})
final class DresealCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", defaultValue = "/", paramLabel = "PATH",
        description = "The value, or the directory with everything below it, to re-seal (default /).")
    String path;

    @Mixin
    NamespaceOptions where;

    @Mixin
    KeyOptions keys;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        String dir = LsCommand.Target.of(path).dir();
        Paths.durablePath(dir, false);
        ClusterKey key = keys.load(where.env, NamespaceOptions.stateDir(where.dir, where.env));
        if (key == null) {
            throw new IllegalArgumentException("no cluster key: values are sealed with the circuit's cluster key; give it"
                + " with --key FILE or $" + KeygenCommand.ENV_KEY);
        }
        ClusterSeal seal = new ClusterSeal(key);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int resealed = 0;
        int bound = 0;
        int unsigned = 0;
        int left = 0;
        try (Namespace ns = where.connect()) {
            java.util.Set<String> paths = new java.util.LinkedHashSet<>(ns.listDurable(dir, true).entries().stream().map(Stored::path).toList());
            if (!dir.equals("/")) {
                paths.add(dir); // a value of its own, when there is one
            }
            for (String p : paths) {
                Optional<byte[]> read = ns.get(p);
                if (read.isEmpty()) {
                    continue; // deleted meanwhile, or no value at dir
                }
                byte[] data = read.get();
                byte kind = data[0];
                if (kind != Namespace.KIND_SIGNED_OBJECT && kind != Namespace.KIND_SIGNED_BYTES) {
                    unsigned++;
                    continue;
                }
                byte[] fresh;
                try {
                    fresh = seal.reseal(p, kind, Arrays.copyOfRange(data, 1, data.length));
                } catch (SecurityException e) {
                    err.println("circuit dreseal: left " + p + " as it is: " + e.getMessage());
                    left++;
                    continue;
                }
                if (fresh == null) {
                    bound++;
                } else if (ns.replace(p, data, kind, fresh)) {
                    out.println("re-sealed " + p);
                    resealed++;
                } else {
                    err.println("circuit dreseal: left " + p + " as it is: it changed while it was re-sealed; run dreseal again");
                    left++;
                }
            }
        }
        out.println(resealed + " re-sealed, " + bound + " sealed with their kind already, " + unsigned + " unsigned, "
            + left + " left as they were");
        out.flush();
        err.flush();
        return left == 0 ? 0 : 1;
    }
}
