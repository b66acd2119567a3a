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
}
