package io.jcircuit.cli;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class ProgressTest {

    @Test
    void onATerminalRedrawsInPlaceAndElsewhereDrawsTheFinishedBarOnce() {
        StringWriter tty = new StringWriter();
        Progress onTerminal = new Progress(new PrintWriter(tty), "deploy", false, true);
        onTerminal.show(10, 100, "10/100");
        onTerminal.show(100, 100, "100/100");
        onTerminal.done();
        assertThat(tty.toString()).startsWith("\rdeploy [###...").contains("\rdeploy [##############################] 100% 100/100")
            .endsWith(System.lineSeparator());

        StringWriter file = new StringWriter();
        Progress toFile = new Progress(new PrintWriter(file), "deploy", false, false);
        toFile.show(10, 100, "10/100");
        toFile.show(50, 100, "50/100");
        toFile.show(100, 100, "100/100");
        toFile.done();
        assertThat(file.toString()).isEqualTo("deploy [##############################] 100% 100/100" + System.lineSeparator());
    }

    @Test
    void endsShortOfTheTotalWhenPartFailed() {
        StringWriter file = new StringWriter();
        Progress toFile = new Progress(new PrintWriter(file), "deploy", false, false);
        toFile.show(50, 100, "50/100");
        toFile.end(50, 100, "1 host(s), 1 failed");
        assertThat(file.toString()).isEqualTo("deploy [###############...............]  50% 1 host(s), 1 failed" + System.lineSeparator());
    }
}
