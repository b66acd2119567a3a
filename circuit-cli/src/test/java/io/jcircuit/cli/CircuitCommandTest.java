package io.jcircuit.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class CircuitCommandTest {

    private static String[] run(String... args) {
        CommandLine cl = CircuitCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new String[] {String.valueOf(code), out.toString(), err.toString()};
    }

    @Test
    void shouldListEveryRegisteredCommandInHelp() {
        String[] r = run("--help");

        assertThat(r[0]).isEqualTo("0");
        CommandLine table = CircuitCommand.commandLine();
        assertThat(table.getSubcommands().keySet()).contains("demo", "bench");
        for (String name : table.getSubcommands().keySet()) {
            assertThat(r[1]).contains(name);
        }
    }

    @Test
    void shouldSummarizeEachCommandInOneWholeSentence() {
        // the help's command table shows the first line of each description: it must not stop mid-sentence
        // (subcommands of subcommands too: "demo --help" showed swap's cut at a ';')
        wholeFirstSentences(CircuitCommand.commandLine());
    }

    private static void wholeFirstSentences(CommandLine table) {
        table.getSubcommands().forEach((name, sub) -> {
            String[] description = sub.getCommandSpec().usageMessage().description();
            if (description.length > 0) {
                assertThat(description[0]).as("first description line of '%s'", sub.getCommandSpec().qualifiedName())
                    .matches("(?s).*[.)]");
            }
            wholeFirstSentences(sub);
        });
    }

    @Test
    void shouldRejectAnUnknownCommandWithUsage() {
        String[] r = run("frobnicate");

        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("frobnicate");
    }

    @Test
    void everyCommandThatAHelpTextNamesExists() {
        // before: 'clear --help' sent users to 'circuit exec', which is no command
        CommandLine table = CircuitCommand.commandLine();
        java.util.regex.Pattern named = java.util.regex.Pattern.compile("'circuit ([a-z-]+)");
        java.util.List<String> missing = new java.util.ArrayList<>();
        for (String command : table.getSubcommands().keySet()) {
            java.util.regex.Matcher m = named.matcher(run(command, "--help")[1].replaceAll("\\s+", " "));
            while (m.find()) {
                if (!table.getSubcommands().containsKey(m.group(1))) {
                    missing.add("'" + command + " --help' names 'circuit " + m.group(1) + "'");
                }
            }
        }
        assertThat(missing).isEmpty();
    }

    @Test
    void shouldDescribeBenchOptions() {
        String[] r = run("bench", "--help");

        assertThat(r[1]).contains("--quick").contains("--json");
    }
}
