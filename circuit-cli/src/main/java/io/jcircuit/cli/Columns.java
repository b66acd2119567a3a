package io.jcircuit.cli;

import java.io.PrintWriter;
import java.util.List;

/**
 * Prints rows as left-aligned columns separated by two spaces, each cell {@link #printable}: what a
 * worker or the namespace says cannot break the table or reach the terminal as a command.
 */
final class Columns {

    private Columns() {
    }

    static void print(PrintWriter out, List<String[]> rows) {
        List<String[]> shown = rows.stream()
            .map(r -> java.util.Arrays.stream(r).map(Columns::printable).toArray(String[]::new)).toList();
        int cols = shown.stream().mapToInt(r -> r.length).max().orElse(0);
        int[] width = new int[cols];
        for (String[] r : shown) {
            // the last cell of a short row (top's "unreachable: ...") runs on past the columns: it sets no width
            int sized = r.length < cols ? r.length - 1 : r.length;
            for (int i = 0; i < sized; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        for (String[] r : shown) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                b.append(r[i]);
                if (i < r.length - 1) {
                    b.append(" ".repeat(width[i] - r[i].length() + 2));
                }
            }
            out.println(b);
        }
    }

    /**
     * {@code s} as one line of plain text, for a terminal: every character that is not printed as itself
     * is written out as an escape, {@code \n}, {@code \r}, {@code \t}, or as Java writes a character, a
     * backslash, {@code u} and four hex digits: control characters (C0, DEL, C1: a line break, the ESC that
     * starts a terminal command), line and paragraph separators, invisible format characters (a
     * right-to-left override, a zero-width space) and lone surrogates. The text commands put a string
     * that a worker or the namespace supplied (a service name, an entry's metadata, an error a worker
     * sent) through this, so that it can neither break nor forge a line of their output, nor drive the
     * operator's terminal. {@code --json} escapes in its own way.
     */
    static String printable(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i); // a lone surrogate comes as itself
            int next = i + Character.charCount(cp);
            String escape = switch (cp) {
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                default -> switch (Character.getType(cp)) {
                    case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
                         Character.SURROGATE -> {
                        StringBuilder u = new StringBuilder();
                        for (int j = i; j < next; j++) {
                            u.append(String.format("\\u%04x", (int) s.charAt(j)));
                        }
                        yield u.toString();
                    }
                    default -> null;
                };
            };
            if (escape != null && b == null) {
                b = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (b != null) {
                b.append(escape != null ? escape : s.substring(i, next));
            }
            i = next;
        }
        return b == null ? s : b.toString();
    }
}
