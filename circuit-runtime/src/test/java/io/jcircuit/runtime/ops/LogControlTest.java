package io.jcircuit.runtime.ops;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

class LogControlTest {

    /** The key a level is listed under names the logger that was set (a probe found "ROOT" in a name lowered). */
    @Test
    void aLoggerWhoseNameHoldsROOTIsListedUnderItsOwnName() {
        LogControl logs = new LogControl();
        assumeThat(logs.available()).isTrue();
        logs.set("log.app.ROOTCAUSE", "DEBUG");
        try {
            assertThat(logs.levels()).containsEntry("log.app.ROOTCAUSE", "DEBUG").doesNotContainKey("log.app.rootCAUSE");
        } finally {
            logs.set("log.app.ROOTCAUSE", "INHERIT");
        }
    }
}
