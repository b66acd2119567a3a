package io.jcircuit.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class CircuitCommandTest {

    private static String[] run(String... args) {
        return run(CircuitCommand.commandLine(), args);
    }

    /** As {@code bin/circuit} runs it: the table built for these arguments. */
    private static String[] runAsMain(String... args) {
        return run(CircuitCommand.commandLine(args), args);
    }

    private static String[] run(CommandLine cl, String... args) {
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

    /** Every verb's help offers -V, --version; it prints the version. Before, it printed nothing and exited 0. */
    @Test
    void everyVerbPrintsTheVersionThatItsHelpOffers() {
        String version = runAsMain("--version")[1].strip();
        assertThat(version).startsWith("JCircuit ");
        for (String verb : java.util.List.of("ls", "kill", "start", "demo")) {
            String[] r = runAsMain(verb, "-V");
            assertThat(r[0]).as(verb).isEqualTo("0");
            assertThat(r[1].strip()).as(verb + " -V").isEqualTo(version);
        }
        assertThat(runAsMain("demo", "swap", "--version")[1].strip()).as("a verb of a verb").isEqualTo(version);
        assertThat(run("peek", "--version")[1].strip()).as("in the whole table").isEqualTo(version);
    }

    /** A command line that misses what it needs is a usage error (status 2, with the usage), as the README says. */
    @Test
    void aCommandLineWithoutWhatItNeedsIsAUsageError() {
        for (String[] args : java.util.List.of(new String[] {"deploy"}, new String[] {"top", "--json"},
                new String[] {"set", "/x", "log.root=INFO", "nokey"}, new String[] {"deploy", "--remove", "a:1", "x.jar"})) {
            String[] r = runAsMain(args);
            assertThat(r[0]).as(String.join(" ", args)).isEqualTo("2");
            assertThat(r[2]).as(String.join(" ", args)).contains("Usage:");
        }
        assertThat(runAsMain("set", "/x", "nokey")[2]).contains("'nokey' is not KEY=VALUE");
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

    @Test
    void shouldFindEveryCommandByItsNameButThoseThatNeedTheWholeTable() {
        // Main builds the table for the command it runs only; a command missing from the switch would still
        // run (with the whole table), but a switch entry naming the wrong class would run another command
        CommandLine table = CircuitCommand.commandLine();
        table.getSubcommands().forEach((name, sub) -> {
            Class<?> expected = name.equals("help") || name.equals("generate-completion") ? null
                : sub.getCommandSpec().userObject().getClass();
            assertThat(CircuitCommand.byName(name)).as(name).isEqualTo(expected);
        });
        assertThat(CircuitCommand.byName("frobnicate")).isNull();
        assertThat(table.getSubcommands()).hasSize(CircuitCommand.commands().size());
    }

    @Test
    void shouldAnswerTheSameWithTheTableBuiltForTheArguments() {
        CommandLine table = CircuitCommand.commandLine();
        table.getSubcommands().forEach((command, sub) -> {
            CommandLine alone = CircuitCommand.commandLine(new String[] {command});
            assertThat(alone.getSubcommands().get(command).getUsageMessage()).as(command + " --help")
                .isEqualTo(sub.getUsageMessage());
        });
        assertThat(runAsMain("ls", "--help")).isEqualTo(run("ls", "--help"));
        assertThat(runAsMain("--version")).isEqualTo(run("--version"));
        assertThat(runAsMain("-V")[1]).startsWith("JCircuit ");
        assertThat(runAsMain("--help")).isEqualTo(run("--help"));
        assertThat(runAsMain()).isEqualTo(run());
        assertThat(runAsMain("help", "ls")).isEqualTo(run("help", "ls"));
        assertThat(runAsMain("frobnicate")).isEqualTo(run("frobnicate"));
        assertThat(runAsMain("ls", "--frobnicate")).isEqualTo(run("ls", "--frobnicate"));
        assertThat(runAsMain("demo", "swap", "--help")).isEqualTo(run("demo", "swap", "--help"));
        assertThat(runAsMain("help", "ls")[1]).contains("Usage: circuit ls");
    }

    @Test
    void shouldRefuseAMalformedSelectorBeforeLookingForZooKeeper() {
        // before: the client started first (a second), and with no ZooKeeper the error was about ZooKeeper
        for (String verb : java.util.List.of("peek", "stack", "log", "drain", "kill", "top", "flow")) {
            String[] r = run(verb, "--zookeeper", "127.0.0.1:1", "nonsense");
            assertThat(r[0]).as(verb).isEqualTo("1");
            assertThat(r[2]).as(verb).contains("circuit " + verb + ": 'nonsense' is neither a worker id");
        }
    }
}
