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
    void offATerminalTheFinishedBarIsDrawnOnceAlsoWhenShownAgain() {
        // as 'profile' does: its countdown shows the total every 200 ms until the profiles come, then ends
        StringWriter file = new StringWriter();
        Progress toFile = new Progress(new PrintWriter(file), "profiling", false, false);
        toFile.show(3, 3, "3/3 s");
        toFile.show(3, 3, "3/3 s");
        toFile.end(3, 3, "3/3 s");
        // before: the bar three times on one line
        assertThat(file.toString()).isEqualTo("profiling [##############################] 100% 3/3 s" + System.lineSeparator());
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
