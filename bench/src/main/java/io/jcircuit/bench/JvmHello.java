package io.jcircuit.bench;

import java.io.IOException;
import java.io.InputStream;
import java.lang.classfile.ClassFile;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static java.lang.constant.ConstantDescs.CD_String;
import static java.lang.constant.ConstantDescs.CD_void;

/**
 * The floor of a cold spawn: a hello-world JVM, {@code java -cp <dir> Hello}, timed from the process
 * start until it has exited. The class is written with the class-file API into a directory of its
 * own, so that the JVM loads nothing but the JDK and one class. The JVM gets no flags, as a user
 * types it; it is the same {@code java} binary that host daemons start workers with.
 */
final class JvmHello {

    static final String CLASS_NAME = "Hello";
    static final String GREETING = "Hello, world";

    private final Path classDir;

    private JvmHello(Path classDir) {
        this.classDir = classDir;
    }

    /**
     * Writes {@code Hello.class} into {@code classDir}, which must exist.
     *
     * @throws IOException when the class cannot be written
     */
    static JvmHello writeTo(Path classDir) throws IOException {
        Files.write(classDir.resolve(CLASS_NAME + ".class"), classBytes());
        return new JvmHello(classDir);
    }

    /** {@code public class Hello { public static void main(String[] a) { System.out.println("Hello, world"); } }} */
    static byte[] classBytes() {
        ClassDesc printStream = ClassDesc.of("java.io.PrintStream");
        return ClassFile.of().build(ClassDesc.of(CLASS_NAME), cls -> cls
            .withFlags(ClassFile.ACC_PUBLIC | ClassFile.ACC_SUPER)
            .withMethodBody("main", MethodTypeDesc.of(CD_void, CD_String.arrayType()),
                ClassFile.ACC_PUBLIC | ClassFile.ACC_STATIC, code -> code
                    .getstatic(ClassDesc.of("java.lang.System"), "out", printStream)
                    .ldc(GREETING)
                    .invokevirtual(printStream, "println", MethodTypeDesc.of(CD_void, CD_String))
                    .return_()));
    }

    /** The command that runs the class. */
    List<String> command() {
        return List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", classDir.toString(), CLASS_NAME);
    }

    /**
     * Runs the hello-world JVM once and returns its wall time in nanoseconds, from just before the
     * process is started until it has exited. Blocks for that long.
     *
     * @throws BenchException when the JVM cannot start, fails or does not greet, so that a broken
     *                        start cannot look fast
     */
    long timeOnce() throws IOException, InterruptedException {
        return timeOnce(Map.of());
    }

    /**
     * {@link #timeOnce()} with {@code env} added to the JVM's environment. Only its standard output
     * must be the greeting: the JVM itself may write notices on standard error (with
     * {@code JAVA_TOOL_OPTIONS} set, "Picked up JAVA_TOOL_OPTIONS: ...").
     */
    long timeOnce(Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command());
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process p = pb.start();
        String out;
        String err;
        try (InputStream in = p.getInputStream(); InputStream errors = p.getErrorStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8); // a few bytes: stderr cannot fill meanwhile
            err = new String(errors.readAllBytes(), StandardCharsets.UTF_8);
        }
        int code = p.waitFor();
        long nanos = System.nanoTime() - start;
        if (code != 0 || !out.strip().equals(GREETING)) {
            throw new BenchException("the hello-world JVM (" + String.join(" ", command()) + ") exited with "
                + code + " and printed '" + out.strip() + "'"
                + (err.isBlank() ? "" : "; on stderr: '" + err.strip() + "'"));
        }
        return nanos;
    }
}
