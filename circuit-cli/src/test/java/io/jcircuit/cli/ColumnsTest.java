package io.jcircuit.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ColumnsTest {

    @Test
    void theLastCellOfAShortRowRunsOnWithoutWideningItsColumn() {
        StringWriter out = new StringWriter();
        Columns.print(new PrintWriter(out, true), List.of(
            new String[] {"WORKER", "CPU%", "HEAP"},
            new String[] {"R1", "3.5", "10M"},
            new String[] {"R2", "unreachable: a long reason that must not widen CPU%"}));

        assertThat(out.toString().lines().toList()).containsExactly(
            "WORKER  CPU%  HEAP",
            "R1      3.5   10M",
            "R2      unreachable: a long reason that must not widen CPU%");
    }

    @Test
    void aCellIsOneLineOfPlainTextWhateverAWorkerPutInIt() {
        StringWriter out = new StringWriter();
        Columns.print(new PrintWriter(out, true), List.of(
            new String[] {"NAME", "VALUE"},
            new String[] {"a\nb", "\u001b[31mred"},
            new String[] {"wide", "x"}));

        // the escapes count in the widths, as they are what is printed
        assertThat(out.toString().lines().toList()).containsExactly(
            "NAME  VALUE",
            "a\\nb  \\u001b[31mred",
            "wide  x");
    }

    @Test
    void printableEscapesWhatATerminalWouldNotShowAsItself() {
        assertThat(Columns.printable("a\nb\rc\td")).isEqualTo("a\\nb\\rc\\td");
        // ESC, BEL, DEL, a C1 CSI, a right-to-left override, a zero-width space, a line separator
        assertThat(Columns.printable("\u001b\u0007\u007f\u009b\u202e\u200b\u2028"))
            .isEqualTo("\\u001b\\u0007\\u007f\\u009b\\u202e\\u200b\\u2028");
        // a lone surrogate, and an invisible tag character (a format character beyond the BMP), by its two halves
        assertThat(Columns.printable("x\ud800y")).isEqualTo("x\\ud800y");
        assertThat(Columns.printable("\udb40\udc01")).isEqualTo("\\udb40\\udc01");
        // what prints as itself stays, the same string when nothing needs escaping
        String plain = "R0123456789abcdef /app/echo café 名前 \ud83d\ude00 a\\nb";
        assertThat(Columns.printable(plain)).isSameAs(plain);
        assertThat(Columns.printable(null)).isEqualTo("null");
    }
}
