package io.jcircuit.cli;

import io.jcircuit.examples.hello.Demo;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code circuit demo}: the main job. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Run the demo: a driver and a worker JVM; go functions and references calling back."})
final class DemoCommand implements Callable<Integer> {

    @Override
    public Integer call() throws Exception {
        return new Demo(System.out).run();
    }
}
