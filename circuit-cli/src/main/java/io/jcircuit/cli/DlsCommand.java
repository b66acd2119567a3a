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
        "PATH lists one directory; PATH/... lists everything below it. Directories end in '/'.",
        "A PATH with no value in or below it is an error (exit status 1); a PATH that is a value lists that value."})
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
        List<Stored> values;
        List<String> dirs;
        String listed;
        long revision;
        try (Namespace ns = where.connect()) {
            l = ns.listDurable(t.dir(), t.recursive());
            values = l.entries();
            dirs = l.directories();
            listed = l.path();
            revision = l.revision();
            if (values.isEmpty() && dirs.isEmpty() && !t.dir().equals("/")) {
                // nothing below: a value of its own, listed alone (as 'ls DIR/R<id>' lists one entry), or nothing there
                int slash = t.dir().lastIndexOf('/');
                l = ns.listDurable(slash == 0 ? "/" : t.dir().substring(0, slash), false);
                values = l.entries().stream().filter(s -> s.path().equals(t.dir())).toList();
                dirs = List.of();
                if (values.isEmpty()) {
                    throw new IllegalArgumentException("no such durable directory " + t.dir() + ": no value is stored in it or below it");
                }
                listed = t.dir(); // the value asked for, with its own revision, not its parent's (a probe saw "/")
                revision = values.getFirst().revision();
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("path", listed);
            o.put("revision", revision);
            o.put("directories", dirs);
            List<Object> vs = new ArrayList<>();
            for (Stored s : values) {
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
            for (String d : dirs) {
                rows.add(new String[] {d + "/"});
            }
            for (Stored s : values) {
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
