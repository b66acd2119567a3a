package io.jcircuit.cli;

import io.jcircuit.Listing;
import io.jcircuit.Stored;
import io.jcircuit.anchor.Namespace;
import io.jcircuit.anchor.Paths;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code circuit dls}: the durable store, listed as {@code ls} lists anchors. */
@Command(name = "dls", mixinStandardHelpOptions = true,
    description = {"List the durable store.",
        "PATH lists one directory; PATH/... lists everything below it. Directories end in '/'."})
final class DlsCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", defaultValue = "/", paramLabel = "PATH", description = "Directory to list (default /).")
    String path;

    @Option(names = "-l", description = "Long form: size, kind (bytes or object) and revision of each value.")
    boolean longForm;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Mixin
    NamespaceOptions where;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        LsCommand.Target t = LsCommand.Target.of(path);
        Paths.durablePath(t.dir(), false);
        Listing<Stored> l;
        try (Namespace ns = where.connect()) {
            l = ns.listDurable(t.dir(), t.recursive());
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("path", l.path());
            o.put("revision", l.revision());
            o.put("directories", l.directories());
            List<Object> vs = new ArrayList<>();
            for (Stored s : l.entries()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("path", s.path());
                m.put("bytes", s.bytes());
                m.put("kind", s.object() ? "object" : "bytes");
                m.put("revision", s.revision());
                vs.add(m);
            }
            o.put("values", vs);
            out.println(Json.write(o));
        } else {
            List<String[]> rows = new ArrayList<>();
            for (String d : l.directories()) {
                rows.add(new String[] {d + "/"});
            }
            for (Stored s : l.entries()) {
                rows.add(longForm
                    ? new String[] {s.path(), s.bytes() + " B", s.object() ? "object" : "bytes", "rev " + s.revision()}
                    : new String[] {s.path()});
            }
            rows.sort((a, b) -> a[0].compareTo(b[0]));
            Columns.print(out, rows);
        }
        out.flush();
        return 0;
    }
}
